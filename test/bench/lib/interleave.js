'use strict';
/** Interleaved measurement: variants alternate in short slices within each round, on the same cores. */
const { load } = require('./load');
const { median } = require('./stats');

/**
 * Measures each variant for `rounds` rounds: `{ label, url }` is loaded by autocannon, `{ label, measure }` by
 * its own function (`measure({ durationSec, warmupSec })` resolves to a result of autocannon's shape, for another
 * load generator). A round gives each variant `durationSec` of load, cut into slices (at most 5, two seconds or
 * more each) that alternate between the variants, so a burst of other load on the shared machine hits all of them
 * alike. A round's figure per variant is the mean of its slices' throughput and the median of their latencies.
 * Returns { [label]: roundResult[] }; each round result also lists its slices' throughput (`sliceRps`), in
 * order, for {@link pairedRatio}.
 */
async function interleaved(variants, { rounds, durationSec, warmupSec, body, headers = { 'content-type': 'application/json' }, connections = 64 }) {
  const results = Object.fromEntries(variants.map((v) => [v.label, []]));
  const slices = Math.max(1, Math.min(5, Math.floor(durationSec / 2)));
  const sliceSec = durationSec / slices;
  for (let i = 0; i < rounds; i++) {
    const round = Object.fromEntries(variants.map((v) => [v.label, []]));
    for (let s = 0; s < slices; s++) {
      // The order alternates too: no variant always runs right after another one's load.
      const order = (i + s) % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const slice = { durationSec: sliceSec, warmupSec: s === 0 ? warmupSec : 0 };
        round[v.label].push(await (v.measure !== undefined ? v.measure(slice) : load({ url: v.url, body, headers, connections, ...slice })));
      }
    }
    for (const v of variants) {
      const parts = round[v.label];
      results[v.label].push({
        rps: parts.reduce((a, r) => a + r.rps, 0) / parts.length,
        p50: median(parts.map((r) => r.p50)),
        p99: median(parts.map((r) => r.p99)),
        requests: parts.reduce((a, r) => a + r.requests, 0),
        sliceRps: parts.map((r) => r.rps),
        errors: parts.reduce((a, r) => a + r.errors, 0),
        non2xx: parts.reduce((a, r) => a + r.non2xx, 0),
      });
    }
  }
  return results;
}

/**
 * The throughput ratio `label` / `baseline` as the median of per-slice ratios: each slice of one variant is set
 * against the other's slice of the same cycle, measured seconds apart on the same cores, so a burst of other load
 * on the machine moves both sides of a pair and the median of many pairs leaves such bursts out. Returns
 * { value, pairs }.
 */
function pairedRatio(results, label, baseline) {
  const ratios = [];
  results[label].forEach((round, i) => round.sliceRps.forEach((rps, s) => ratios.push(rps / results[baseline][i].sliceRps[s])));
  return { value: median(ratios), pairs: ratios.length };
}

/**
 * {@link interleaved} on fresh server processes every round: each variant `{ label, url, start }` has its server
 * started (`start()` resolves to `{ stop() }`) at the round's beginning, in an order that rotates from round to
 * round, and stopped at its end. Two processes of the same build can differ by 5-15% for their whole life (JIT
 * decisions, memory layout): with one process per variant a ratio would be a draw between processes. `afterRound`
 * runs while the round's servers are still up (to read their counters). Returns what {@link interleaved} returns.
 */
async function interleavedFresh(variants, { rounds, ...options }, afterRound = async () => {}) {
  const results = Object.fromEntries(variants.map((v) => [v.label, []]));
  for (let round = 0; round < rounds; round++) {
    const servers = [];
    try {
      for (let k = 0; k < variants.length; k++) servers.push(await variants[(round + k) % variants.length].start());
      const one = await interleaved(variants, { ...options, rounds: 1 });
      for (const v of variants) results[v.label].push(...one[v.label]);
      await afterRound(round);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  return results;
}

module.exports = { interleaved, interleavedFresh, pairedRatio };
