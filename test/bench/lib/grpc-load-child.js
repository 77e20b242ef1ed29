'use strict';
/**
 * The gRPC load generator process (autocannon cannot speak gRPC): reads a spec on stdin, keeps `concurrency`
 * unary calls in flight over `channels` HTTP/2 connections for the duration, prints a JSON summary.
 * The request is sent as pre-encoded bytes, so the generator spends nothing on protobuf encoding.
 */
const grpc = require('@grpc/grpc-js');

const identity = (b) => b;

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function run(spec, clients, payload, durationSec) {
  return new Promise((resolve) => {
    const latencies = [];
    let requests = 0;
    let errors = 0;
    let lastError = '';
    let stopping = false;
    let active = 0;
    const started = process.hrtime.bigint();
    const deadline = Date.now() + durationSec * 1000;
    const fire = (client) => {
      const t0 = process.hrtime.bigint();
      active++;
      client.makeUnaryRequest(spec.path, identity, identity, payload, (err) => {
        active--;
        if (err) {
          errors++;
          lastError = `${err.code} ${err.details}`;
        } else {
          requests++;
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        if (!stopping && Date.now() >= deadline) stopping = true;
        if (!stopping) fire(client);
        else if (active === 0) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          latencies.sort((a, b) => a - b);
          resolve({ rps: requests / seconds, requests, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, non2xx: 0, lastError });
        }
      });
    };
    for (let i = 0; i < spec.concurrency; i++) fire(clients[i % clients.length]);
  });
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const spec = JSON.parse(input);
  const payload = Buffer.from(spec.body, 'base64');
  const clients = [];
  for (let i = 0; i < (spec.channels ?? 4); i++) {
    // One connection per client: no shared subchannel pool.
    clients.push(
      new grpc.Client(spec.target, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
      }),
    );
  }
  await Promise.all(clients.map((c) => new Promise((resolve, reject) => c.waitForReady(Date.now() + 10000, (e) => (e ? reject(e) : resolve())))));
  if (spec.warmupSec > 0) await run(spec, clients, payload, spec.warmupSec);
  const r = await run(spec, clients, payload, spec.durationSec ?? 10);
  for (const c of clients) c.close();
  process.stdout.write(JSON.stringify(r));
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
