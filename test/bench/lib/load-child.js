'use strict';
/** The load generator process: reads a spec on stdin, runs autocannon, prints a JSON summary. */
const autocannon = require('autocannon');

function run(spec, durationSec) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        method: spec.method ?? 'POST',
        body: spec.body === undefined ? undefined : Buffer.from(spec.body, 'base64'),
        headers: spec.headers ?? {},
        connections: spec.connections ?? 64,
        pipelining: 1,
        duration: durationSec,
        // A fixed number of requests instead of a duration (autocannon then ignores the duration).
        amount: spec.amount,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const spec = JSON.parse(input);
  if (spec.warmupSec > 0) await run({ ...spec, amount: undefined }, spec.warmupSec);
  const r = await run(spec, spec.durationSec ?? 10);
  process.stdout.write(
    JSON.stringify({
      rps: r.requests.average,
      requests: r.requests.total,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
    }),
  );
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
