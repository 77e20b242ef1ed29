'use strict';
/**
 * `npm run bench [-- scenario ...] [--rounds N] [--duration S]`: runs the benchmark scenarios in test/bench/scenarios,
 * each comparing against a baseline in the same run, prints ratios and rewrites their sections of RESULTS.md.
 * Servers are pinned to core 0 (BENCH_SERVER_CORE) and the load generator to core 1 (BENCH_LOAD_CORE).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { fmt } = require('./lib/stats');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, list: { type: 'boolean' } },
});
const dir = path.join(__dirname, 'scenarios');
const all = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .map((f) => require(path.join(dir, f)));
if (values.list) {
  for (const s of all) console.log(`${s.name}\t${s.title}`);
  process.exit(0);
}
const chosen = positionals.length === 0 ? all : all.filter((s) => positionals.includes(s.name));
const unknown = positionals.filter((p) => !all.some((s) => s.name === p));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const settings = {
  rounds: Number(values.rounds ?? 3),
  durationSec: Number(values.duration ?? 10),
  warmupSec: Number(values.warmup ?? 2),
};

function table(rows) {
  const cols = Object.keys(rows[0]);
  const cell = (v) => (typeof v === 'number' ? fmt(v, v < 100 ? 2 : 0) : String(v));
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`)].join('\n');
}

async function main() {
  const resultsFile = path.join(__dirname, 'RESULTS.md');
  const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
  const sections = new Map();
  for (const m of previous.matchAll(/<!-- scenario:(\S+) -->\n([\s\S]*?)<!-- \/scenario -->/g)) sections.set(m[1], m[2]);
  let failed = false;
  for (const scenario of chosen) {
    console.log(`\n== ${scenario.title}`);
    const started = Date.now();
    const { rows, ratios, notes = [] } = await scenario.run(settings);
    const lines = ratios.map((r) => {
      if (r.min === undefined && r.max === undefined) return `- **${r.name}: ${fmt(r.value, 2)}** (no target: for information)`;
      const ok = (r.min === undefined || r.value >= r.min) && (r.max === undefined || r.value <= r.max);
      if (!ok) failed = true;
      const target = r.min !== undefined ? `target ≥ ${r.min}` : `target ≤ ${r.max}`;
      return `- **${r.name}: ${fmt(r.value, 2)}** (${target}: ${ok ? 'met' : 'NOT met'})`;
    });
    console.log(table(rows));
    console.log(lines.join('\n'));
    for (const n of notes) console.log(`- ${n}`);
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    sections.set(
      scenario.name,
      `### ${scenario.title}\n\nCommand: \`npm run bench -- ${scenario.name} --rounds ${settings.rounds} --duration ${settings.durationSec}\` ` +
        `(${when}, ${os.cpus().length} cores, Node ${process.version}, ${Math.round((Date.now() - started) / 1000)} s; medians of ${settings.rounds} rounds; ` +
        `latency in ms)\n\n${table(rows)}\n\n${[...lines, ...notes.map((n) => `- ${n}`)].join('\n')}\n\n`,
    );
  }
  const body = [...sections.entries()].map(([name, text]) => `<!-- scenario:${name} -->\n${text}<!-- /scenario -->`).join('\n');
  fs.writeFileSync(
    resultsFile,
    `# Benchmark results\n\nWritten by \`npm run bench\` (test/bench/run.js). The server runs pinned to core 0 and the load generator (autocannon, or h2load where a scenario says so) to core 1; ` +
      `each scenario compares against a baseline in the same run. The machine is shared and noisy: compare ratios, not absolute figures.\n\n${body}\n`,
  );
  console.log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
