'use strict';
/**
 * Real-sized JSON tensors: one FP32 [64,256] (16 Ki elements) and one FP32 [256,1024] (256 Ki elements) tensor
 * echoed through the model server's echo model against the raw node:http floor doing JSON.parse + JSON.stringify
 * of the same echo, 16 connections, the two servers alternating in slices (lib/interleave.js). While the
 * [256,1024] load runs on the model server, GET /v2/health/live is probed every 10 ms: large bodies must not hold
 * the event loop.
 */
const { interleaved, pairedRatio } = require('../lib/interleave');
const { load } = require('../lib/load');
const { probe } = require('../lib/probe');
const { rawEcho, modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

/** Seven significant digits: the text a client writes for float32 values it rounded for transport. */
function body(rows, cols) {
  const data = Array.from({ length: rows * cols }, (_, i) => Number((Math.sin(i * 0.7) * 40).toPrecision(7)));
  return JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, cols], data }] });
}

const SIZES = [
  { label: '[64,256]', body: body(64, 256) },
  { label: '[256,1024]', body: body(256, 1024) },
];
const LIVE = 'health/live p99 during [256,1024] (ms)';
/** Requests the model server failed (errors and non-2xx answers, in every load of the run) and health probes that failed. */
const FAILED = 'failed requests and probes (model server)';

module.exports = {
  name: 'json-large',
  title: 'Echo infer of real-sized JSON FP32 tensors, 16 connections: model server vs raw node:http JSON.parse + JSON.stringify',
  targets: [
    ...SIZES.map((s) => ({ ratio: `${s.label}: nest-model-server / raw node:http`, min: 0.8 })),
    { ratio: LIVE, max: 20 },
    { ratio: FAILED, max: 0 },
  ],
  async run({ rounds, durationSec, warmupSec }) {
    const raw = await rawEcho(18190);
    const nest = await modelServer(18200);
    const rows = [];
    const ratios = [];
    const notes = [];
    let health;
    try {
      for (const size of SIZES) {
        const results = await interleaved(
          [
            { label: 'raw node:http', url: 'http://127.0.0.1:18190/' },
            { label: 'nest-model-server', url: 'http://127.0.0.1:18200/v2/models/echo/infer' },
          ],
          { rounds, durationSec, warmupSec, body: size.body, connections: 16 },
        );
        for (const row of summarize(results)) rows.push({ tensor: size.label, ...row });
        const paired = pairedRatio(results, 'nest-model-server', 'raw node:http');
        ratios.push({ name: `${size.label}: nest-model-server / raw node:http`, value: paired.value, min: 0.8 });
        notes.push(`${size.label}: body ${(size.body.length / 1e3).toFixed(0)} KB; the ratio is the median of ${paired.pairs} per-slice ratios`);
      }
      // The health probe during the large load, on the model server alone.
      const big = SIZES[1];
      const saturating = load({ url: 'http://127.0.0.1:18200/v2/models/echo/infer', body: big.body, headers: { 'content-type': 'application/json' }, connections: 16, durationSec, warmupSec });
      await new Promise((resolve) => setTimeout(resolve, warmupSec * 1000 + 300));
      health = await probe({ url: 'http://127.0.0.1:18200/v2/health/live', intervalMs: 10, durationSec: Math.max(1, durationSec - 1) });
      const during = await saturating;
      rows.push({ tensor: `${big.label} + health probe`, variant: 'nest-model-server', rps: during.rps, p50: during.p50, p99: during.p99, errors: during.errors + during.non2xx });
    } finally {
      await raw.stop();
      await nest.stop();
    }
    ratios.push({ name: LIVE, value: health.p99, max: 20 });
    const failed = rows.filter((r) => r.variant === 'nest-model-server').reduce((n, r) => n + r.errors, 0) + health.failed;
    ratios.push({ name: FAILED, value: failed, max: 0 });
    notes.push(`health/live during the [256,1024] load: ${health.count} probes, p50 ${health.p50.toFixed(2)} ms, max ${health.max.toFixed(1)} ms, ${health.failed} failed`);
    return { rows, ratios, notes };
  },
};
