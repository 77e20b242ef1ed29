'use strict';
/** Small helpers for reporting. */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n));

/** One table row per variant: medians of its rounds' throughput and latency, errors summed. */
const summarize = (results) =>
  Object.entries(results).map(([variant, rs]) => ({
    variant,
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
  }));

module.exports = { median, fmt, summarize };
