'use strict';
/**
 * The throughput cost of tracing: echo infer over JSON (FP32 [1,4], 64 connections) on four servers in the same
 * run — the build from before tracing existed (the parent of the commit that added libs/model-server/src/tracing,
 * exported with `git archive` and built in a temporary directory), this build with tracing off (no SDK), this
 * build with the SDK and `parentbased_traceidratio` 0.01, and this build with every request sampled. The SDK
 * variants export with the CLI's default OTLP/HTTP protocol (protobuf, as OpenTelemetry's exporters default to)
 * to a sink (servers/otlp-sink.js) on the load core that answers 200 and keeps nothing. Each round starts fresh
 * server processes; within it the variants alternate in short slices on the same core, the one sampling every
 * request in a pass of its own against no SDK (its exports outlast its slices).
 * All of them serve through Fastify's route (`FAST_LANE=0`, {@link SAME_DOOR}). Throughput ratios are medians of
 * per-slice ratios (lib/interleave.js `pairedRatio`). Targets: no SDK costs at most 3% against the build before
 * tracing, and sampling 1% at most 10% against no SDK.
 *
 * What is measured is a server in its steady state: each fresh server first serves {@link STEADY_WARMUP_SEC} of
 * load alone. The code only sampled requests run is run by one request in a hundred at 1%, so V8 optimizes it a
 * hundred times later than the code every request runs: a 1% server compiles for its first 10-30 s of load (on
 * the core it serves from), where the others have settled within 2-4 s (docs/observability.md, 'Sampling and
 * what it costs').
 *
 * Beside throughput, each server's CPU time per request served (/proc/<pid>/stat from the end of its warm-up to
 * the end of the round, divided by the growth of its `nms_requests_total`, the exports' own work included): what
 * a request costs the server whatever else the machine runs, which on a shared machine moves throughput much more.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { interleaved, pairedRatio } = require('../lib/interleave');
const { load } = require('../lib/load');
const { startServer, LOAD_CORE } = require('../lib/processes');
const { modelServer, ROOT } = require('../lib/servers');
const { median } = require('../lib/stats');

/** CPU seconds a process has used (user + system), from /proc (Linux). */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Requests the server has served (`nms_requests_total`, all series). */
function served(port) {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/metrics`, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let n = 0;
          for (const line of text.split('\n')) if (line.startsWith('nms_requests_total{')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
          resolve(n);
        });
      })
      .on('error', reject);
  });
}

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
/** The echo model's infer route on the server at `port`: what every variant is loaded with. */
const inferUrl = (port) => `http://127.0.0.1:${port}/v2/models/echo/infer`;
const NO_SDK_TARGET = 0.97;
const SAMPLED_1PCT_TARGET = 0.9;
/**
 * Seconds of load each fresh server serves alone before it is measured (the 1% server's JIT settles within them);
 * `BENCH_TRACING_WARMUP_SEC=0` measures fresh servers as this benchmark did before 2026-12-06 06:00Z.
 */
const STEADY_WARMUP_SEC = Number(process.env.BENCH_TRACING_WARMUP_SEC ?? 30);

/** The commit before tracing: the parent of the first commit that added the tracer. */
function baselineCommit() {
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', 'libs/model-server/src/tracing/request-tracer.ts'], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
  if (added.length === 0) throw new Error('no commit added libs/model-server/src/tracing/request-tracer.ts: cannot find the build before tracing');
  return execFileSync('git', ['rev-parse', `${added[added.length - 1]}^`], { cwd: ROOT, encoding: 'utf8' }).trim();
}

/** The build before tracing, in a temporary directory (kept between runs, by commit), with this tree's node_modules. */
function baselineBuild() {
  const commit = baselineCommit();
  const dir = path.join(os.tmpdir(), `nms-bench-baseline-${commit.slice(0, 12)}`);
  const cli = path.join(dir, 'dist', 'src', 'cli.js');
  if (!fs.existsSync(cli)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    console.log(`building the baseline ${commit.slice(0, 12)} in ${dir}`);
    const archive = execFileSync('git', ['archive', '--format=tar', commit], { cwd: ROOT, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(dir, 'node_modules', 'typescript-native', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
    const proto = 'libs/model-server/src/protocol/v2/grpc/grpc_predict_v2.proto';
    fs.copyFileSync(path.join(dir, proto), path.join(dir, 'dist', proto));
  }
  return { commit, dir, cli };
}

const SINK_PORT = 18440;

/**
 * Every variant serves echo through Fastify's route, the default since the fast lane went off by default after
 * tracing was added: the build before tracing had the lane on by default, so without this its echo requests took
 * the lane (about 17% cheaper on echo) and "no SDK / before tracing" measured the lane's default, not tracing.
 */
const SAME_DOOR = { FAST_LANE: '0' };

/** The OTLP/HTTP receiver (test/bench/servers/otlp-sink.js), on the load core: `stats()` reads what it took so far. */
async function otlpSink() {
  const url = `http://127.0.0.1:${SINK_PORT}`;
  const sink = await startServer({ name: 'OTLP sink', script: path.join(__dirname, '..', 'servers', 'otlp-sink.js'), env: { PORT: String(SINK_PORT) }, readyUrl: `${url}/`, core: LOAD_CORE });
  return {
    url,
    stats: async () => (await fetch(`${url}/`)).json(),
    close: () => sink.stop(),
  };
}

module.exports = {
  name: 'tracing',
  title: 'Tracing cost: echo infer, JSON, FP32 [1,4], 64 connections: before tracing vs no SDK vs SDK sampling 1% vs every request sampled',
  targets: [
    { ratio: 'no SDK / before tracing', min: NO_SDK_TARGET },
    { ratio: 'SDK, 1% sampled / no SDK', min: SAMPLED_1PCT_TARGET },
  ],
  async run({ rounds, durationSec, warmupSec }) {
    const baseline = baselineBuild();
    const sink = await otlpSink();
    let exported;
    // The protocol is left to the CLI's default (http/protobuf): what a deployment that sets only the exporter gets.
    const otlp = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
    const variants = [
      { label: 'before tracing', port: 18400, baseline: true, env: {} },
      { label: 'no SDK', port: 18410, env: {} },
      { label: 'SDK, 1% sampled', port: 18420, env: { ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' } },
      { label: 'SDK, all sampled', port: 18430, env: { ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
    ];
    const start = (v) =>
      v.baseline
        ? startServer({
            name: `nest-model-server (${baseline.commit.slice(0, 12)})`,
            script: baseline.cli,
            args: ['serve', '--config', path.join(baseline.dir, 'test', 'bench', 'servers', 'bench-models.yaml')],
            env: { PORT: String(v.port), HOST: '127.0.0.1', GRPC_PORT: String(v.port + 1), ...SAME_DOOR },
            readyUrl: `http://127.0.0.1:${v.port}/v2/health/ready`,
          })
        : modelServer(v.port, { env: { ...v.env, ...SAME_DOOR } });
    const results = Object.fromEntries(variants.map((v) => [v.label, []]));
    /** Microseconds of server CPU per request, per variant and round. */
    const cpuPerRequest = Object.fromEntries(variants.map((v) => [v.label, []]));
    // Two passes a round, each on fresh processes started in a rotating order (two processes of one build can
    // differ for life): the variants with targets, then no SDK against every request sampled. The server sampling
    // everything exports for seconds after its own slices end, on the same core: in one pass with the others its
    // exports ran in their slices (after it in every other cycle), so it is measured apart.
    const passes = [variants.filter((v) => v.label !== 'SDK, all sampled'), variants.filter((v) => v.label === 'no SDK' || v.label === 'SDK, all sampled')];
    const allSampled = { 'no SDK': [], 'SDK, all sampled': [] };
    try {
      for (let round = 0; round < rounds; round++) {
        for (const [pass, group] of passes.entries()) {
          const servers = [];
          try {
            const byLabel = new Map();
            for (let k = 0; k < group.length; k++) {
              const v = group[(round + k) % group.length];
              const server = await start(v);
              servers.push(server);
              byLabel.set(v.label, server);
            }
            for (const v of STEADY_WARMUP_SEC > 0 ? group : []) {
              await load({ url: inferUrl(v.port), body: BODY, headers: { 'content-type': 'application/json' }, connections: 64, durationSec: STEADY_WARMUP_SEC });
            }
            // The warm-up's exports go out before the slices start (the server sampling everything queues seconds of them).
            await new Promise((resolve) => setTimeout(resolve, 6000));
            const before = new Map();
            for (const v of group) before.set(v.label, { cpu: cpuSeconds(byLabel.get(v.label).pid), served: await served(v.port) });
            const measured = await interleaved(
              group.map((v) => ({ label: v.label, url: inferUrl(v.port) })),
              { rounds: 1, durationSec, warmupSec, body: BODY },
            );
            // Exports still queued are part of what the requests cost: let them go out first.
            await new Promise((resolve) => setTimeout(resolve, 6000));
            for (const v of group) {
              const b = before.get(v.label);
              const cpu = cpuSeconds(byLabel.get(v.label).pid) - b.cpu;
              const perRequest = (cpu * 1e6) / ((await served(v.port)) - b.served);
              if (pass === 1) {
                allSampled[v.label].push(...measured[v.label]);
                if (v.label === 'no SDK') continue;
              }
              results[v.label].push(...measured[v.label]);
              cpuPerRequest[v.label].push(perRequest);
            }
          } finally {
            for (const s of servers) await s.stop();
          }
        }
      }
      exported = await sink.stats();
    } finally {
      await sink.close();
    }
    const rows = variants.map((v) => {
      const rs = results[v.label];
      return {
        variant: v.label,
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
        'CPU µs/request': median(cpuPerRequest[v.label]),
      };
    });
    const cpu = (label) => rows.find((r) => r.variant === label)['CPU µs/request'];
    const noSdk = pairedRatio(results, 'no SDK', 'before tracing');
    const onePct = pairedRatio(results, 'SDK, 1% sampled', 'no SDK');
    const all = pairedRatio(allSampled, 'SDK, all sampled', 'no SDK');
    return {
      rows,
      ratios: [
        { name: 'no SDK / before tracing', value: noSdk.value, min: NO_SDK_TARGET },
        { name: 'SDK, 1% sampled / no SDK', value: onePct.value, min: SAMPLED_1PCT_TARGET },
        { name: 'SDK, all sampled / no SDK', value: all.value },
        { name: 'CPU per request, before tracing / no SDK', value: cpu('before tracing') / cpu('no SDK') },
        { name: 'CPU per request, no SDK / SDK 1% sampled', value: cpu('no SDK') / cpu('SDK, 1% sampled') },
        { name: 'CPU per request, no SDK / SDK all sampled', value: cpu('no SDK') / cpu('SDK, all sampled') },
      ],
      notes: [
        `ratios are medians of ${noSdk.pairs} per-slice ratios each, measured after each fresh server served ${STEADY_WARMUP_SEC} s of load alone; the baseline is ${baseline.commit.slice(0, 12)} (the commit before tracing)`,
        `SDK, 1% sampled / before tracing: ${pairedRatio(results, 'SDK, 1% sampled', 'before tracing').value.toFixed(2)} (per-slice median)`,
        `the OTLP sink took ${exported.posts} exports, ${(exported.bytes / 1e6).toFixed(1)} MB of OTLP/protobuf`,
        'A sampled request makes 4 spans (server, decode, predict, encode) exported by the batch span processor (default queue 2048: spans past it are dropped, not waited for).',
        'CPU ratios (per request served, medians of the rounds) read like throughput ratios: 0.95 means a request costs the server 5% more CPU.',
        `Load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores at the end of the run (the machine may be shared with other work): compare ratios, not absolute figures.`,
      ],
    };
  },
};
