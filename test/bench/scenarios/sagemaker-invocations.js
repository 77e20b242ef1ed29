'use strict';
/**
 * SageMaker /invocations on the echo model (one FP32 row of 4 values, 64 connections), as CSV and as JSON rows,
 * against v2 JSON infer on the same server. For information: v2 JSON infer is answered by the HTTP server's fast
 * lane (turned on here: FAST_LANE=1), /invocations by its Fastify route, so the ratio shows the codecs, the SageMaker layer and Fastify's
 * per-request work together.
 */
const path = require('node:path');
const { load } = require('../lib/load');
const { modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const CONFIG = path.join(__dirname, '..', 'servers', 'composition-models.yaml');
const V2 = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const VARIANTS = [
  ['v2 JSON /v2/models/echo/infer', '/v2/models/echo/infer', V2, 'application/json'],
  ['/invocations CSV', '/invocations', '5.1,3.5,1.4,0.2\n', 'text/csv'],
  ['/invocations JSON rows', '/invocations', '[[5.1,3.5,1.4,0.2]]', 'application/json'],
];

module.exports = {
  name: 'sagemaker-invocations',
  title: 'SageMaker /invocations (CSV, JSON rows) vs v2 JSON infer, echo FP32 [1,4], 64 connections',
  targets: [],
  async run({ rounds, durationSec, warmupSec }) {
    const server = await modelServer(18120, { config: CONFIG, env: { FAST_LANE: '1' } });
    const results = Object.fromEntries(VARIANTS.map(([label]) => [label, []]));
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, url, body, type] of VARIANTS) {
          const r = await load({
            url: `http://127.0.0.1:18120${url}`,
            body,
            headers: { 'content-type': type, 'x-amzn-sagemaker-target-model': 'echo' },
            connections: 64,
            durationSec,
            warmupSec,
          });
          results[label].push(r);
        }
      }
    } finally {
      await server.stop();
    }
    const rows = summarize(results);
    const base = rows[0].rps;
    return {
      rows,
      ratios: [
        { name: '/invocations CSV / v2 JSON (fast lane)', value: rows[1].rps / base },
        { name: '/invocations JSON rows / v2 JSON (fast lane)', value: rows[2].rps / base },
      ],
    };
  },
};
