'use strict';
/**
 * The streaming load generator process: reads a spec on stdin and keeps `concurrency` streams open for the
 * duration, each opened again as soon as the previous one ended: server-sent events (`sse`, counting `data:`
 * events), gRPC ModelStreamInfer (`grpc`, one call per stream, counting responses before the final one) or the
 * unary generate route (`unary`, the whole text in one answer, counted as `tokens` parts). Measures each
 * stream's time to its first part; prints a JSON summary.
 */
const http = require('node:http');
const grpc = require('@grpc/grpc-js');

const identity = (b) => b;

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One SSE stream (or one unary answer): resolves { ttfc, parts } or rejects. */
function httpStream(spec, agent) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let ttfc = 0;
    let parts = 0;
    const req = http.request({ host: '127.0.0.1', port: spec.port, method: 'POST', path: spec.path, agent, headers: { 'content-type': 'application/json', 'content-length': spec.bodyLength } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`status ${res.statusCode}`));
      }
      res.setEncoding('utf8');
      res.on('data', (text) => {
        if (ttfc === 0) ttfc = Number(process.hrtime.bigint() - t0) / 1e6;
        if (spec.mode === 'unary') return;
        for (let i = text.indexOf('data: '); i !== -1; i = text.indexOf('data: ', i + 6)) parts++;
      });
      res.on('end', () => resolve({ ttfc, parts: spec.mode === 'unary' ? spec.tokens : parts }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** One gRPC ModelStreamInfer call with one request: resolves { ttfc, parts } (the final empty response not counted). */
function grpcStream(client, payload) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let ttfc = 0;
    let messages = 0;
    const call = client.makeBidiStreamRequest('/inference.GRPCInferenceService/ModelStreamInfer', identity, identity);
    call.on('data', () => {
      if (ttfc === 0) ttfc = Number(process.hrtime.bigint() - t0) / 1e6;
      messages++;
    });
    call.on('status', (s) => (s.code === 0 ? resolve({ ttfc, parts: messages - 1 }) : reject(new Error(`${s.code} ${s.details}`))));
    call.on('error', () => undefined);
    call.write(payload);
    call.end();
  });
}

async function main() {
  let input = '';
  for await (const c of process.stdin) input += c;
  const spec = JSON.parse(input);
  spec.bodyLength = String(Buffer.byteLength(spec.body ?? ''));
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const clients = spec.mode === 'grpc' ? Array.from({ length: spec.channels ?? 4 }, (_, i) => new grpc.Client(`127.0.0.1:${spec.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.channel_id': i })) : [];
  const payload = spec.mode === 'grpc' ? Buffer.from(spec.grpcBody, 'base64') : undefined;
  const one = (lane) => (spec.mode === 'grpc' ? grpcStream(clients[lane % clients.length], payload) : httpStream(spec, agent));
  const measure = async (seconds, record) => {
    const deadline = Date.now() + seconds * 1000;
    const totals = { streams: 0, parts: 0, errors: 0, lastError: '', ttfc: [] };
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: spec.concurrency }, async (_, lane) => {
        while (Date.now() < deadline) {
          try {
            const r = await one(lane);
            totals.streams++;
            totals.parts += r.parts;
            if (record) totals.ttfc.push(r.ttfc);
          } catch (err) {
            totals.errors++;
            totals.lastError = String(err.message ?? err);
          }
        }
      }),
    );
    totals.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return totals;
  };
  const warm = await measure(spec.warmupSec, false);
  const t = await measure(spec.durationSec, true);
  t.ttfc.sort((a, b) => a - b);
  agent.destroy();
  for (const c of clients) c.close();
  process.stdout.write(
    JSON.stringify({
      streamsPerSec: t.streams / t.seconds,
      partsPerSec: t.parts / t.seconds,
      ttfcP50: percentile(t.ttfc, 50),
      ttfcP99: percentile(t.ttfc, 99),
      partsPerStream: t.streams === 0 ? 0 : t.parts / t.streams,
      totalParts: warm.parts + t.parts,
      errors: t.errors,
      lastError: t.lastError,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
