'use strict';
/**
 * What the fast lane buys on real models: the same JSON infer requests (64 connections) to the Iris forest (in
 * process) and the ONNX MLP (worker thread, adaptive batching), served by two otherwise identical servers, one
 * with the lane (FAST_LANE=1) and one with FAST_LANE=0 (every request through Fastify's route, the default). The servers
 * alternate in short slices on the same core, on fresh processes every round (lib/interleave.js: two processes of
 * one build can differ by 5-15% for life); each ratio is the median of per-slice ratios.
 * The lane's default follows this measurement (docs/performance.md): it stays on only while it buys ≥ 10% on a
 * real model.
 */
const path = require('node:path');
const { interleavedFresh, pairedRatio } = require('../lib/interleave');
const { modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const CONFIG = path.join(__dirname, '..', 'servers', 'real-models.yaml');
const IRIS = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const MLP = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_v, i) => ((i * 37) % 100) / 100) }] });

module.exports = {
  name: 'infer-real',
  title: 'Fast lane on / off on real models: Iris forest (in process) and ONNX MLP (worker, batching), JSON, 64 connections',
  async run({ rounds, durationSec, warmupSec }) {
    const results = {};
    for (const [model, body] of [['iris', IRIS], ['mlp', MLP]]) {
      Object.assign(
        results,
        await interleavedFresh(
          [
            { label: `${model}, lane`, url: `http://127.0.0.1:18300/v2/models/${model}/infer`, start: () => modelServer(18300, { config: CONFIG, env: { FAST_LANE: '1' } }) },
            { label: `${model}, route`, url: `http://127.0.0.1:18310/v2/models/${model}/infer`, start: () => modelServer(18310, { config: CONFIG, env: { FAST_LANE: '0' } }) },
          ],
          { rounds, durationSec, warmupSec, body },
        ),
      );
    }
    const rows = summarize(results);
    const iris = pairedRatio(results, 'iris, lane', 'iris, route');
    const mlp = pairedRatio(results, 'mlp, lane', 'mlp, route');
    return {
      rows,
      ratios: [
        { name: 'iris: lane / route', value: iris.value },
        { name: 'mlp: lane / route', value: mlp.value },
      ],
      notes: [`each ratio is the median of ${iris.pairs} per-slice ratios; the lane is on by default only while a real model gains ≥ 10% (ratio ≥ 1.10)`],
    };
  },
};
