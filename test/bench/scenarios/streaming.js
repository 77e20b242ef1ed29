'use strict';
/**
 * Streaming: 32 streams at once, each 64 words from the textgen sample (per-token delay 0), opened again as soon
 * as one ends: server-sent events (/generate_stream), gRPC ModelStreamInfer (decoupled) and the unary /generate
 * (the whole text in one answer) on the same server, and a raw node:http SSE writer producing the same events
 * from the same n-gram model, as the floor. Time to first part p50/p99 and parts per second; medians of rounds.
 */
const path = require('node:path');
const { encodeInferRequest } = require('../lib/grpc-load');
const { modelServer, rawFloor } = require('../lib/servers');
const { cpuSeconds, streamLoad } = require('../lib/stream-load');
const { median } = require('../lib/stats');

const PORT = 18740; // the model server (gRPC on PORT + 1)
const RAW_PORT = 18742;
const TOKENS = 64;
const CONCURRENCY = 32;
const PARAMETERS = { max_tokens: TOKENS, seed: 11, temperature: 1, delay_ms: 0 };
const BODY = JSON.stringify({ text_input: 'Alice was', parameters: PARAMETERS });

function grpcBody() {
  const params = Object.fromEntries(Object.entries(PARAMETERS).map(([k, v]) => [k, Number.isInteger(v) ? { int64_param: v } : { double_param: v }]));
  // Every part sent as the model makes it, then an empty response flagged final (what lib/stream-load-child.js
  // counts); without it the server holds each part back until the next one shows whether it is the last.
  params.triton_enable_empty_final_response = { bool_param: true };
  const bytes = encodeInferRequest({
    model_name: 'textgen',
    parameters: params,
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('Alice was')] } }],
  });
  return bytes.toString('base64');
}

const VARIANTS = [
  { label: 'raw node:http SSE', mode: 'sse', port: RAW_PORT, path: '/v2/models/textgen/generate_stream' },
  { label: 'SSE /generate_stream', mode: 'sse', port: PORT, path: '/v2/models/textgen/generate_stream' },
  { label: 'gRPC ModelStreamInfer', mode: 'grpc', port: PORT },
  { label: 'unary /generate', mode: 'unary', port: PORT, path: '/v2/models/textgen/generate' },
];

module.exports = {
  name: 'streaming',
  title: `Streaming textgen, ${CONCURRENCY} streams of ${TOKENS} words at once: SSE vs gRPC decoupled vs unary generate vs a raw node:http SSE writer`,
  async run({ rounds, durationSec, warmupSec }) {
    const server = await modelServer(PORT, { config: path.join(__dirname, '..', 'servers', 'streaming-models.yaml'), env: { LOG_LEVEL: 'warn' } });
    const raw = await rawFloor('raw node:http SSE', 'raw-sse.js', RAW_PORT);
    const grpc = grpcBody();
    const results = Object.fromEntries(VARIANTS.map((v) => [v.label, []]));
    try {
      for (let i = 0; i < rounds; i++) {
        for (const v of VARIANTS) {
          const pid = v.port === RAW_PORT ? raw.pid : server.pid;
          const cpuBefore = cpuSeconds(pid);
          const r = await streamLoad({ ...v, body: BODY, grpcPort: PORT + 1, grpcBody: grpc, tokens: TOKENS, concurrency: CONCURRENCY, channels: 4, durationSec, warmupSec });
          r.partsPerCpuSec = r.totalParts / (cpuSeconds(pid) - cpuBefore);
          results[v.label].push(r);
        }
      }
    } finally {
      await server.stop();
      await raw.stop();
    }
    const rows = Object.entries(results).map(([variant, rs]) => ({
      variant,
      'streams/s': median(rs.map((r) => r.streamsPerSec)),
      'parts/s': median(rs.map((r) => r.partsPerSec)),
      'parts/stream': median(rs.map((r) => r.partsPerStream)),
      'parts per server CPU s': median(rs.map((r) => r.partsPerCpuSec)),
      'first part p50': median(rs.map((r) => r.ttfcP50)),
      'first part p99': median(rs.map((r) => r.ttfcP99)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    }));
    const parts = Object.fromEntries(rows.map((r) => [r.variant, r['parts/s']]));
    const perCpu = Object.fromEntries(rows.map((r) => [r.variant, r['parts per server CPU s']]));
    const errors = Object.entries(results)
      .filter(([, rs]) => rs.some((r) => r.lastError))
      .map(([variant, rs]) => `${variant}: last error ${rs.find((r) => r.lastError).lastError}`);
    return {
      rows,
      ratios: [
        { name: 'SSE /generate_stream / raw node:http SSE, parts per server CPU second', value: perCpu['SSE /generate_stream'] / perCpu['raw node:http SSE'], min: 0.7 },
        { name: 'SSE /generate_stream / raw node:http SSE, parts per second (wall clock)', value: parts['SSE /generate_stream'] / parts['raw node:http SSE'] },
        { name: 'gRPC ModelStreamInfer / SSE, parts per second', value: parts['gRPC ModelStreamInfer'] / parts['SSE /generate_stream'] },
        { name: 'unary /generate / SSE, words per second', value: parts['unary /generate'] / parts['SSE /generate_stream'] },
      ],
      notes: [
        'Parts per server CPU second: the parts a run produced over the CPU time the server process used meanwhile (/proc), so the ratio is the cost per streamed part whether or not the shared machine or the one-core load generator held the server back; wall-clock parts per second are shown too.',
        'Parts: one `data:` event (SSE), one response before the final one (gRPC); the unary answer counts its 64 words. "First part" of the unary route is its whole answer.',
        'The raw writer runs the same n-gram model (dist/samples/textgen/ngram.js) with the same seed, its words coming from an async generator as a model\'s predictStream gives them: the ratio is the framework\'s cost per streamed part (data plane, admission, checks, encoding, the request log\'s event; no monitoring records).',
        'The machine was shared with other engineers\' parallel work during the run: absolute figures are noisy, compare ratios.',
        ...errors,
      ],
    };
  },
};
