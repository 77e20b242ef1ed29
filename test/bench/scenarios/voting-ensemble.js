'use strict';
/**
 * A VotingEnsemble of three echo models against one echo model, v2 JSON, FP32 [1,4], 64 connections: the cost of
 * fanning a request out to three in-process members through the data plane and voting (here: averaging).
 */
const path = require('node:path');
const { load } = require('../lib/load');
const { modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const CONFIG = path.join(__dirname, '..', 'servers', 'composition-models.yaml');
const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

module.exports = {
  name: 'voting-ensemble',
  title: 'VotingEnsemble of 3 echo members vs 1 echo model, v2 JSON FP32 [1,4], 64 connections',
  targets: [{ ratio: 'ensemble of 3 / single model', min: 0.4 }],
  async run({ rounds, durationSec, warmupSec }) {
    const server = await modelServer(18130, { config: CONFIG });
    const results = { 'single echo': [], 'ensemble of 3 echo': [] };
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, model] of [
          ['single echo', 'echo'],
          ['ensemble of 3 echo', 'ensemble'],
        ]) {
          const r = await load({
            url: `http://127.0.0.1:18130/v2/models/${model}/infer`,
            body: BODY,
            headers: { 'content-type': 'application/json' },
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
    return { rows, ratios: [{ name: 'ensemble of 3 / single model', value: rows[1].rps / rows[0].rps, min: 0.4 }] };
  },
};
