'use strict';
/**
 * Hostile gRPC messages at the default limits against the real server process (echo model): the longest
 * GET /v2/health/live waited while each is decoded, served and encoded (one probe every 10 ms from another
 * process), and the growth of the server's resident memory at its peak, as a multiple of the message's size.
 * Messages are built by hand (a stock encoder takes minutes for millions of elements) and sent as bytes.
 */
const grpc = require('@grpc/grpc-js');
const { rssMiB } = require('../lib/memory');
const { probe } = require('../lib/probe');
const { modelServer } = require('../lib/servers');

const PORT = 18210; // REST; gRPC listens on PORT + 1
const MiB = 1024 * 1024;

function varint(v) {
  const out = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (n, payload) => {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((n << 3) | 2), varint(bytes.length), bytes]);
};
const input = (name, datatype, shape, contents) =>
  field(5, Buffer.concat([field(1, name), field(2, datatype), field(3, Buffer.concat(shape.map(varint))), field(5, contents)]));
const request = (...fields) => Buffer.concat([field(1, 'echo'), ...fields]);

function oneByteStrings(n) {
  const b = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) {
    b[3 * i] = 0x42;
    b[3 * i + 1] = 1;
    b[3 * i + 2] = 0x61 + (i % 26);
  }
  return b;
}

const CASES = [
  { label: 'INT64 packed, 64 MiB (refused: maxTensorBytes)', build: () => request(input('x', 'INT64', [64 * MiB - 64], field(3, Buffer.alloc(64 * MiB - 64, 1)))) },
  { label: 'INT64 packed, 16 Mi elements, echoed', build: () => request(input('x', 'INT64', [16 * MiB], field(3, Buffer.alloc(16 * MiB, 3)))) },
  { label: 'FP32 contents, 60 MiB, echoed', build: () => request(input('x', 'FP32', [15 * MiB], field(6, Buffer.alloc(60 * MiB)))) },
  { label: 'bytes_contents, 1 Mi one-byte elements, echoed', build: () => request(input('s', 'BYTES', [MiB], oneByteStrings(MiB))) },
  { label: 'bytes_contents, 20 Mi one-byte elements, echoed', build: () => request(input('s', 'BYTES', [20 * MiB], oneByteStrings(20 * MiB))), probeSec: 60 },
];

function send(client, bytes) {
  return new Promise((resolve) => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b) => b, (b) => b, bytes, { deadline: Date.now() + 300_000 }, (err, res) =>
      resolve(err ? `${grpc.status[err.code]}: ${err.details.slice(0, 80)}` : `OK, ${(res.length / MiB).toFixed(1)} MiB answer`),
    );
  });
}

module.exports = {
  name: 'grpc-hostile',
  title: 'Hostile gRPC ModelInfer messages at the default limits: longest health probe and peak RSS growth of the server',
  async run() {
    const rows = [];
    for (const c of CASES) {
      // A fresh server per message, so each peak is its own.
      const server = await modelServer(PORT, { env: { LOG_LEVEL: 'warn' } });
      const client = new grpc.Client(`127.0.0.1:${PORT + 1}`, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
      });
      try {
        const bytes = c.build();
        const base = rssMiB(server.pid);
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 10);
        const probing = probe({ url: `http://127.0.0.1:${PORT}/v2/health/live`, intervalMs: 10, durationSec: c.probeSec ?? 15 });
        await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        const outcome = await send(client, bytes);
        const seconds = (Date.now() - started) / 1000;
        clearInterval(sampler);
        peak = Math.max(peak, rssMiB(server.pid));
        // The prober runs its full time, which covers the request (checked).
        const health = await probing;
        if (seconds + 0.3 > (c.probeSec ?? 15)) throw new Error(`${c.label}: took ${seconds} s, longer than the probing`);
        rows.push({
          message: c.label,
          'MiB sent': bytes.length / MiB,
          outcome,
          seconds,
          'longest probe ms': health.max,
          'live p99 ms': health.p99,
          'RSS growth MiB': peak - base,
          '× message': (peak - base) / (bytes.length / MiB),
        });
      } finally {
        client.close();
        await server.stop();
      }
    }
    const longest = Math.max(...rows.map((r) => r['longest probe ms']));
    return {
      rows,
      // No target: grpc-js itself reassembles a received message and frames a sent one in one synchronous copy
      // each, which on a machine with slow page faults blocks for hundreds of milliseconds at 64 MiB.
      ratios: [{ name: 'longest health probe during any of them (ms)', value: longest }],
      notes: [
        'grpc-js copies each received message into one buffer (stream-decoder Buffer.concat) and each sent one into its frame (serializeMessage), synchronously; those two copies are what remains of the blocking.',
        'RSS growth includes the message itself as grpc-js received it (1×) and the answer it sends (echo: about 1× more).',
        'INT64 of one-byte varints decodes to 8 bytes per element: 8× the message, bounded by maxTensorBytes (128 MiB).',
      ],
    };
  },
};
