'use strict';
/**
 * gRPC ModelInfer (raw_input_contents) against REST JSON infer on the same server process, echo model,
 * FP32 [1,4] and [64,256], 64 requests in flight each (REST: 64 connections; gRPC: 8 HTTP/2 connections × 8).
 * Variants alternate within each round; medians compared.
 */
const { load } = require('../lib/load');
const { grpcLoad, encodeInferRequest } = require('../lib/grpc-load');
const { modelServer } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const PORT = 18200; // REST; gRPC listens on PORT + 1
const PATH = '/inference.GRPCInferenceService/ModelInfer';

function tensor(rows, cols) {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(((i * 7919) % 1000) / 37 - 13.5);
  return data;
}

function restBody(rows, cols) {
  return JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows, cols], data: Array.from(tensor(rows, cols)) }] });
}

function grpcRaw(rows, cols) {
  const data = tensor(rows, cols);
  return encodeInferRequest({
    model_name: 'echo',
    inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows, cols] }],
    raw_input_contents: [Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
  });
}

function grpcContents(rows, cols) {
  return encodeInferRequest({
    model_name: 'echo',
    inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows, cols], contents: { fp32_contents: Array.from(tensor(rows, cols)) } }],
  });
}

const VARIANTS = [
  // An RPC that does next to nothing (no data plane; its tiny messages go through proto-loader), for scale.
  { label: 'gRPC ServerLive', grpc: Buffer.alloc(0), path: '/inference.GRPCInferenceService/ServerLive' },
  { label: 'REST JSON [1,4]', rest: restBody(1, 4) },
  { label: 'gRPC raw [1,4]', grpc: grpcRaw(1, 4) },
  { label: 'gRPC contents [1,4]', grpc: grpcContents(1, 4) },
  { label: 'REST JSON [64,256]', rest: restBody(64, 256) },
  { label: 'gRPC raw [64,256]', grpc: grpcRaw(64, 256) },
];

module.exports = {
  name: 'grpc-infer',
  title: 'Echo infer, gRPC ModelInfer (raw) vs REST JSON on the same server, FP32 [1,4] and [64,256], 64 in flight',
  async run({ rounds, durationSec, warmupSec }) {
    const server = await modelServer(PORT);
    const results = Object.fromEntries(VARIANTS.map((v) => [v.label, []]));
    try {
      for (let i = 0; i < rounds; i++) {
        for (const v of VARIANTS) {
          const r =
            v.rest !== undefined
              ? await load({
                  url: `http://127.0.0.1:${PORT}/v2/models/echo/infer`,
                  body: v.rest,
                  headers: { 'content-type': 'application/json' },
                  connections: 64,
                  durationSec,
                  warmupSec,
                })
              : await grpcLoad({ target: `127.0.0.1:${PORT + 1}`, path: v.path ?? PATH, body: v.grpc, channels: 8, concurrency: 64, durationSec, warmupSec });
          results[v.label].push(r);
        }
      }
    } finally {
      await server.stop();
    }
    const rows = summarize(results);
    const rps = Object.fromEntries(rows.map((r) => [r.variant, r.rps]));
    const notes = Object.entries(results)
      .filter(([, rs]) => rs.some((r) => r.lastError))
      .map(([variant, rs]) => `${variant}: last error ${rs.find((r) => r.lastError).lastError}`);
    return {
      rows,
      ratios: [
        // Tiny messages: grpc-js's per-call cost dominates (see ServerLive); no target, the ratio is reported.
        { name: 'gRPC raw / REST JSON, FP32 [1,4]', value: rps['gRPC raw [1,4]'] / rps['REST JSON [1,4]'] },
        { name: 'gRPC raw / REST JSON, FP32 [64,256]', value: rps['gRPC raw [64,256]'] / rps['REST JSON [64,256]'], min: 2 },
      ],
      notes: [
        `gRPC raw [1,4] / gRPC ServerLive (an RPC without data plane): ${(rps['gRPC raw [1,4]'] / rps['gRPC ServerLive']).toFixed(2)}`,
        `gRPC contents / raw, FP32 [1,4]: ${(rps['gRPC contents [1,4]'] / rps['gRPC raw [1,4]']).toFixed(2)}`,
        'The load generator is grpc-js too (test/bench/lib/grpc-load-child.js), on its own core; on tiny messages it costs about as much as the server.',
        ...notes,
      ],
    };
  },
};
