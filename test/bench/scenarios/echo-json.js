'use strict';
/**
 * Echo infer over JSON (FP32 [1,4], 64 connections) against the raw node:http floor: the model server as it
 * ships (the fast lane off, its default) and with the lane on (FAST_LANE=1, for information); the servers alternate
 * in short slices within each round, on the same core, on fresh processes every round (lib/interleave.js). The
 * ratio is the median of per-slice ratios (`pairedRatio`); the ratio of the table's medians is printed beside it.
 */
const { interleavedFresh, pairedRatio } = require('../lib/interleave');
const { rawEcho, modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

module.exports = {
  name: 'echo-json',
  title: 'Echo infer, JSON, FP32 [1,4], 64 connections: model server vs raw node:http',
  targets: [{ ratio: 'nest-model-server / raw node:http', min: 0.75 }],
  async run({ rounds, durationSec, warmupSec }) {
    const results = await interleavedFresh(
      [
        { label: 'raw node:http', url: 'http://127.0.0.1:18090/', start: () => rawEcho(18090) },
        { label: 'nest-model-server', url: 'http://127.0.0.1:18100/v2/models/echo/infer', start: () => modelServer(18100) },
        { label: 'nest-model-server, fast lane', url: 'http://127.0.0.1:18110/v2/models/echo/infer', start: () => modelServer(18110, { env: { FAST_LANE: '1' } }) },
      ],
      { rounds, durationSec, warmupSec, body: BODY },
    );
    const rows = summarize(results);
    const paired = pairedRatio(results, 'nest-model-server', 'raw node:http');
    return {
      rows,
      ratios: [
        { name: 'nest-model-server / raw node:http', value: paired.value, min: 0.75 },
        { name: 'nest-model-server with the fast lane / raw node:http', value: pairedRatio(results, 'nest-model-server, fast lane', 'raw node:http').value },
      ],
      notes: [`the ratio is the median of ${paired.pairs} per-slice ratios; the ratio of the medians in the table is ${(rows[1].rps / rows[0].rps).toFixed(2)}`],
    };
  },
};
