'use strict';
/**
 * The throughput cost of monitoring: echo infer over JSON (FP32 [1,4], 64 connections) on three servers in the
 * same run — monitoring off (no records, METRICS=0), Prometheus metrics only (the default), and every request
 * recorded to a JSON-lines file (MLRun records, LOG_STREAM=file://...) with metrics. Each round starts fresh server
 * processes (lib/interleave.js `interleavedFresh`); within it the variants alternate in short slices on the same core (latency: the median slice). The ratio is the median of per-slice
 * ratios (lib/interleave.js `pairedRatio`): each file-sink slice against the "off" slice of the same cycle, so a
 * burst of other load on this shared machine does not decide it. Target: the file sink costs under 15% of throughput.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { interleavedFresh, pairedRatio } = require('../lib/interleave');
const { get } = require('../lib/processes');
const { modelServer } = require('../lib/servers');
const { median } = require('../lib/stats');

const BODY = JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const TARGET = 0.85;

/** Reads one sample of the server's /metrics (0 when absent). */
function metric(port, line) {
  const http = require('node:http');
  return new Promise((resolve) => {
    http
      .get(`http://127.0.0.1:${port}/metrics`, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const found = text.split('\n').find((l) => l.startsWith(line + ' '));
          resolve(found === undefined ? 0 : Number(found.slice(line.length + 1)));
        });
      })
      .on('error', () => resolve(0));
  });
}

module.exports = {
  name: 'monitoring-file',
  title: 'Monitoring cost: echo infer, JSON, FP32 [1,4], 64 connections: off vs metrics vs every request to a file sink',
  targets: [{ ratio: 'file sink + metrics / monitoring off', min: TARGET }],
  async run({ rounds, durationSec, warmupSec }) {
    const file = path.join(os.tmpdir(), `nms-bench-monitoring-${process.pid}.jsonl`);
    const variants = [
      { label: 'monitoring off', port: 18300, env: { METRICS: '0' } },
      { label: 'metrics only', port: 18310, env: {} },
      { label: 'file sink + metrics', port: 18320, env: { LOG_STREAM: `file://${file}` } },
    ];
    let records = 0;
    let dropped = 0;
    let results;
    try {
      results = await interleavedFresh(
        variants.map((v) => ({ label: v.label, url: `http://127.0.0.1:${v.port}/v2/models/echo/infer`, start: () => modelServer(v.port, { env: v.env }) })),
        { rounds, durationSec, warmupSec, body: BODY },
        async () => {
          if ((await get('http://127.0.0.1:18300/metrics')) !== 404) throw new Error('the "monitoring off" server still serves /metrics');
          records += await metric(18320, 'nms_monitoring_records_sent_total{sink="file"}');
          for (const reason of ['overflow', 'failed', 'shutdown', 'rejected', 'unformattable']) {
            dropped += await metric(18320, `nms_monitoring_records_dropped_total{sink="file",reason="${reason}"}`);
          }
          // Keep the disk use of long runs small.
          fs.rmSync(file, { force: true });
        },
      );
    } finally {
      fs.rmSync(file, { force: true });
    }
    const rows = variants.map((v) => {
      const rs = results[v.label];
      return {
        variant: v.label,
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
      };
    });
    const [off, , fileSink] = rows;
    const requests = results['file sink + metrics'].reduce((a, r) => a + r.requests, 0);
    const paired = pairedRatio(results, 'file sink + metrics', 'monitoring off');
    return {
      rows,
      ratios: [{ name: 'file sink + metrics / monitoring off', value: paired.value, min: TARGET }],
      notes: [
        `the ratio is the median of ${paired.pairs} per-slice ratios; the ratio of the medians in the table is ${(fileSink.rps / off.rps).toFixed(2)}`,
        `metrics only / monitoring off: ${pairedRatio(results, 'metrics only', 'monitoring off').value.toFixed(2)} (per-slice median)`,
        `p99 latency: monitoring off ${off.p99} ms, file sink ${fileSink.p99} ms (autocannon reports whole milliseconds)`,
        `file sink: ${records} records written, ${dropped} dropped, for ${requests} measured requests (warm-up requests are recorded too)`,
        'All three servers run the default request logger (LOG_FORMAT=json), which already builds the per-request event; "off" means no metrics and no LOG_STREAM.',
      ],
    };
  },
};
