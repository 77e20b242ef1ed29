'use strict';
/**
 * The `mlp` ONNX sample with adaptive batching against `mlp-unbatched`, as `npm start` serves them
 * (samples/models.yaml), single-row FP32 [1,64] requests from 64 connections, alternating on the same server.
 */
const path = require('node:path');
const { load } = require('../lib/load');
const { modelServer, ROOT } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const CONFIG = path.join(ROOT, 'samples', 'models.yaml');
const ROW = Array.from({ length: 64 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
const BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: ROW }] });
const RATIO = 'mlp / mlp-unbatched (requests per second)';

module.exports = {
  name: 'mlp-batching',
  title: 'ONNX mlp, adaptive batching on vs off, single-row requests, 64 connections',
  targets: [{ ratio: RATIO, min: 4 }],
  async run({ rounds, durationSec, warmupSec }) {
    const port = 18150;
    const server = await modelServer(port, { config: CONFIG });
    const results = { 'mlp-unbatched': [], mlp: [] };
    try {
      for (let i = 0; i < rounds; i++) {
        for (const model of ['mlp-unbatched', 'mlp']) {
          results[model].push(
            await load({
              url: `http://127.0.0.1:${port}/v2/models/${model}/infer`,
              body: BODY,
              headers: { 'content-type': 'application/json' },
              connections: 64,
              durationSec,
              warmupSec,
            }),
          );
        }
      }
    } finally {
      await server.stop();
    }
    const rows = summarize(results);
    const failed = rows.reduce((a, r) => a + r.errors, 0);
    return {
      rows,
      ratios: [
        { name: RATIO, value: rows[1].rps / rows[0].rps, min: 4 },
        { name: 'failed requests', value: failed, max: 0 },
      ],
      notes: ['config: samples/models.yaml (both in 1 worker thread; mlp: maxBatchSize 64, maxLatencyMs 2; mlp-unbatched: no batching)'],
    };
  },
};
