'use strict';
/**
 * Event-loop health: the latency of GET /v2/health/live (one probe every 10 ms, sub-millisecond timing) while the
 * CPU-heavy knn sample is saturated by 8 connections, with knn in 2 worker threads against knn on the main thread.
 */
const path = require('node:path');
const { load } = require('../lib/load');
const { probe } = require('../lib/probe');
const { modelServer } = require('../lib/servers');
const { median } = require('../lib/stats');

const CONFIG = path.join(__dirname, '..', 'servers', 'event-loop-models.yaml');
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => (i * 37) % 10) }] });
const TARGET = 'health/live p99 with workers (ms)';

module.exports = {
  name: 'event-loop',
  title: 'GET /v2/health/live latency while the CPU-heavy knn sample is saturated: worker threads vs main thread',
  targets: [{ ratio: TARGET, max: 10 }],
  async run({ rounds, durationSec, warmupSec }) {
    const port = 18160;
    const server = await modelServer(port, { config: CONFIG });
    const results = { 'knn in 2 worker threads': [], 'knn on the main thread': [] };
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, model] of [
          ['knn in 2 worker threads', 'knn'],
          ['knn on the main thread', 'knn-inline'],
        ]) {
          const saturating = load({
            url: `http://127.0.0.1:${port}/v2/models/${model}/infer`,
            body: BODY,
            headers: { 'content-type': 'application/json' },
            connections: 8,
            durationSec,
            warmupSec,
          });
          // Probe while the load runs (after its warm-up), not past its end.
          await new Promise((resolve) => setTimeout(resolve, warmupSec * 1000 + 300));
          const health = await probe({ url: `http://127.0.0.1:${port}/v2/health/live`, intervalMs: 10, durationSec: Math.max(1, durationSec - 1) });
          results[label].push({ load: await saturating, health });
        }
      }
    } finally {
      await server.stop();
    }
    const rows = Object.entries(results).map(([variant, rs]) => ({
      variant,
      'knn rps': median(rs.map((r) => r.load.rps)),
      'live p50': median(rs.map((r) => r.health.p50)),
      'live p99': median(rs.map((r) => r.health.p99)),
      'live max': median(rs.map((r) => r.health.max)),
      probes: rs.reduce((a, r) => a + r.health.count, 0),
      errors: rs.reduce((a, r) => a + r.load.errors + r.load.non2xx + r.health.failed, 0),
    }));
    return {
      rows,
      ratios: [
        { name: TARGET, value: rows[0]['live p99'], max: 10 },
        { name: 'live p99 without / with workers', value: rows[1]['live p99'] / rows[0]['live p99'], min: 1 },
      ],
      notes: ['the server process (main thread and worker threads) is pinned to one core; load and prober to the other'],
    };
  },
};
