'use strict';
/**
 * The cost of one global Nest guard (APP_GUARD) on the echo infer route, JSON, FP32 [1,4], 64 connections: the same
 * Nest application (test/bench/servers/nest-app-echo.js, with `fastLane: true`) without the guard (its infer requests
 * answered by the fast lane) and with it (the lane leaves guarded models to Fastify's route, where the guard runs), beside the raw
 * node:http floor. The three servers alternate in short slices within each round, on the same core.
 */
const path = require('node:path');
const { interleaved, pairedRatio } = require('../lib/interleave');
const { rawEcho } = require('../lib/servers');
const { startServer } = require('../lib/processes');
const { summarize } = require('../lib/stats');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const SCRIPT = path.join(__dirname, '..', 'servers', 'nest-app-echo.js');

function nestApp(port, guard) {
  return startServer({
    name: guard ? 'nest app, one global guard' : 'nest app, no guard',
    script: SCRIPT,
    env: { PORT: String(port), GUARD: guard ? '1' : '0' },
    readyUrl: `http://127.0.0.1:${port}/v2/health/ready`,
  });
}

module.exports = {
  name: 'nest-guard',
  title: 'Echo infer, JSON, FP32 [1,4], 64 connections: a Nest app without and with one global guard (APP_GUARD)',
  async run({ rounds, durationSec, warmupSec }) {
    const raw = await rawEcho(18190);
    const bare = await nestApp(18200, false);
    const guarded = await nestApp(18210, true);
    let results;
    try {
      results = await interleaved(
        [
          { label: 'raw node:http', url: 'http://127.0.0.1:18190/' },
          { label: 'no guard', url: 'http://127.0.0.1:18200/v2/models/echo/infer' },
          { label: 'one global guard', url: 'http://127.0.0.1:18210/v2/models/echo/infer' },
        ],
        { rounds, durationSec, warmupSec, body: BODY, headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' } },
      );
    } finally {
      await raw.stop();
      await bare.stop();
      await guarded.stop();
    }
    const rows = summarize(results);
    const cost = pairedRatio(results, 'one global guard', 'no guard');
    const floor = pairedRatio(results, 'one global guard', 'raw node:http');
    return {
      rows,
      ratios: [
        { name: 'one global guard / no guard', value: cost.value },
        { name: 'one global guard / raw node:http', value: floor.value },
      ],
      notes: [`ratios are medians of ${cost.pairs} per-slice ratios; every request carries the bearer token the guard checks (the guarded server answers 200)`],
    };
  },
};
