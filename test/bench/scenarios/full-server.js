'use strict';
/**
 * Echo infer over JSON (FP32 [1,4], 64 connections) on `npm start`'s configuration (samples/models.yaml: 13 models,
 * two versions of echo, worker threads, batching, ONNX sessions, a streaming model) against the raw node:http
 * floor, with the benchmark's echo-only server beside them for scale. The three alternate in short slices within
 * each round, on fresh processes every round (lib/interleave.js); ratios are medians of per-slice ratios.
 */
const path = require('node:path');
const { interleavedFresh, pairedRatio } = require('../lib/interleave');
const { rawEcho, modelServer, ROOT } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const RAW = 'raw node:http';
const FULL = 'npm start configuration';
const ALONE = 'echo alone';

module.exports = {
  name: 'full-server',
  title: "Echo infer, JSON, FP32 [1,4], 64 connections: npm start's full sample set vs raw node:http (and vs echo alone)",
  async run({ rounds, durationSec, warmupSec }) {
    const results = await interleavedFresh(
      [
        { label: RAW, url: 'http://127.0.0.1:18130/', start: () => rawEcho(18130) },
        { label: FULL, url: 'http://127.0.0.1:18140/v2/models/echo/infer', start: () => modelServer(18140, { config: path.join(ROOT, 'samples', 'models.yaml') }) },
        { label: ALONE, url: 'http://127.0.0.1:18150/v2/models/echo/infer', start: () => modelServer(18150) },
      ],
      { rounds, durationSec, warmupSec, body: BODY },
    );
    const rows = summarize(results);
    const vsRaw = pairedRatio(results, FULL, RAW);
    const vsAlone = pairedRatio(results, FULL, ALONE);
    return {
      rows,
      ratios: [
        { name: `${FULL} / ${RAW}`, value: vsRaw.value, min: 0.75 },
        { name: `${FULL} / ${ALONE}`, value: vsAlone.value },
      ],
      notes: [`ratios are medians of ${vsRaw.pairs} per-slice ratios`],
    };
  },
};
