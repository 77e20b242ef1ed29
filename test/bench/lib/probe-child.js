'use strict';
/**
 * The latency prober: reads { url, intervalMs, durationSec } on stdin, sends one GET at a time every intervalMs over
 * a keep-alive connection, and prints the latencies' percentiles in milliseconds (sub-millisecond precision, which
 * autocannon does not give).
 */
const http = require('node:http');

function once(agent, url) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, ok: res.statusCode === 200 }));
    });
    req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, ok: false }));
  });
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const spec = JSON.parse(input);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const end = Date.now() + spec.durationSec * 1000;
  const latencies = [];
  let failed = 0;
  while (Date.now() < end) {
    const r = await once(agent, spec.url);
    if (r.ok) latencies.push(r.ms);
    else failed++;
    await new Promise((resolve) => setTimeout(resolve, spec.intervalMs ?? 10));
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({ count: latencies.length, failed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] }),
  );
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
