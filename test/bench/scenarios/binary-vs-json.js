'use strict';
/**
 * One FP32 [256,1024] tensor (1 MiB of floats) echoed through the model server, binary tensor extension in and out
 * against JSON in and out, 16 connections, alternating over the rounds on the same server.
 */
const { load } = require('../lib/load');
const { modelServer } = require('../lib/servers');
const { median } = require('../lib/stats');

const ROWS = 256;
const COLS = 1024;
// Floats with short exact decimal forms (multiples of 1/8), so the JSON body is as small as JSON gets (~1.7 MB).
const values = Float32Array.from({ length: ROWS * COLS }, (_, i) => ((i * 7919) % 2000) / 8 - 125);

const JSON_BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, COLS], data: Array.from(values) }] });
const header = Buffer.from(
  JSON.stringify({
    parameters: { binary_data_output: true },
    inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, COLS], parameters: { binary_data_size: values.byteLength } }],
  }),
);
const BINARY_BODY = Buffer.concat([header, Buffer.from(values.buffer)]);

const RATIO = 'binary / JSON (requests per second)';

module.exports = {
  name: 'binary-vs-json',
  title: 'Echo infer of one FP32 [256,1024] tensor: binary tensor extension vs JSON, 16 connections',
  targets: [{ ratio: RATIO, min: 5 }],
  async run({ rounds, durationSec, warmupSec }) {
    const port = 18140;
    const server = await modelServer(port);
    const results = { 'JSON in, JSON out': [], 'binary in, binary out': [] };
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, body, headers] of [
          ['JSON in, JSON out', JSON_BODY, { 'content-type': 'application/json' }],
          ['binary in, binary out', BINARY_BODY, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }],
        ]) {
          results[label].push(await load({ url: `http://127.0.0.1:${port}/v2/models/echo/infer`, body, headers, connections: 16, durationSec, warmupSec }));
        }
      }
    } finally {
      await server.stop();
    }
    const rows = Object.entries(results).map(([variant, rs]) => ({
      variant,
      rps: median(rs.map((r) => r.rps)),
      'MB/s in': (median(rs.map((r) => r.rps)) * (variant.startsWith('JSON') ? JSON_BODY.length : BINARY_BODY.length)) / 1e6,
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
    }));
    return {
      rows,
      ratios: [{ name: RATIO, value: rows[1].rps / rows[0].rps, min: 5 }],
      notes: [`bodies: JSON ${(JSON_BODY.length / 1e6).toFixed(2)} MB, binary ${(BINARY_BODY.length / 1e6).toFixed(2)} MB (same values)`],
    };
  },
};
