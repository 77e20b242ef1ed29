'use strict';
/**
 * Memory: the server's resident set (RSS) after a warm-up of 100,000 echo requests and after 1,000,000 more
 * (JSON FP32 [1,4], 64 connections). BENCH_MEMORY_REQUESTS shortens the long run for a quick check.
 */
const { load } = require('../lib/load');
const { rssMiB } = require('../lib/memory');
const { modelServer } = require('../lib/servers');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const WARMUP = 100_000;
const LONG = Number(process.env.BENCH_MEMORY_REQUESTS ?? 1_000_000);
const TARGET = 'RSS growth after the long run (fraction)';

module.exports = {
  name: 'memory',
  title: `Server RSS after ${WARMUP.toLocaleString('en-US')} warm-up echo requests and after ${LONG.toLocaleString('en-US')} more`,
  targets: [{ ratio: TARGET, max: 0.1 }],
  async run() {
    const port = 18170;
    const server = await modelServer(port);
    const spec = { url: `http://127.0.0.1:${port}/v2/models/echo/infer`, body: BODY, headers: { 'content-type': 'application/json' }, connections: 64 };
    const rows = [];
    try {
      const before = rssMiB(server.pid);
      rows.push({ phase: 'started', requests: 0, 'RSS MiB': before, rps: 0, errors: 0 });
      const warm = await load({ ...spec, amount: WARMUP, durationSec: 3600 });
      const warmRss = rssMiB(server.pid);
      rows.push({ phase: 'after warm-up', requests: warm.requests, 'RSS MiB': warmRss, rps: warm.rps, errors: warm.errors + warm.non2xx });
      const long = await load({ ...spec, amount: LONG, durationSec: 3600 });
      const longRss = rssMiB(server.pid);
      rows.push({ phase: 'after the long run', requests: long.requests, 'RSS MiB': longRss, rps: long.rps, errors: long.errors + long.non2xx });
      return { rows, ratios: [{ name: TARGET, value: (longRss - warmRss) / warmRss, max: 0.1 }] };
    } finally {
      await server.stop();
    }
  },
};
