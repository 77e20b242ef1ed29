'use strict';
/**
 * Echo infer over JSON (FP32 [1,4], 64 connections) against the raw node:http floor, alternating the two
 * servers over several rounds on the same core, medians compared.
 */
const { load } = require('../lib/load');
const { rawEcho, modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

module.exports = {
  name: 'echo-json',
  title: 'Echo infer, JSON, FP32 [1,4], 64 connections: model server vs raw node:http',
  targets: [{ ratio: 'nest-model-server / raw node:http', min: 0.75 }],
  async run({ rounds, durationSec, warmupSec }) {
    const raw = await rawEcho(18090);
    const nest = await modelServer(18100);
    const results = { 'raw node:http': [], 'nest-model-server': [] };
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, port, url] of [
          ['raw node:http', 18090, '/'],
          ['nest-model-server', 18100, '/v2/models/echo/infer'],
        ]) {
          const r = await load({
            url: `http://127.0.0.1:${port}${url}`,
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
      await raw.stop();
      await nest.stop();
    }
    const rows = summarize(results);
    const ratio = rows[1].rps / rows[0].rps;
    return { rows, ratios: [{ name: 'nest-model-server / raw node:http', value: ratio, min: 0.75 }] };
  },
};
