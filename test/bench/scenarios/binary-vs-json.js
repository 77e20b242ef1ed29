'use strict';
/**
 * One FP32 [256,1024] tensor (1 MiB of floats) echoed through the model server, binary tensor extension in and out
 * against JSON in and out, 16 connections, alternating over the rounds on the same server; beside them the floor of
 * binary echo, a raw node:http server answering the same bytes. The load comes from h2load over HTTP/1.1 (C, on the
 * load core): a JavaScript generator parsing 1 MiB answers caps at about a hundred a second on this machine, far
 * below what either server does, and would measure itself.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureH2load, h2load } = require('../lib/h2load');
const { modelServer, rawBinaryEcho } = require('../lib/servers');
const { median } = require('../lib/stats');

const ROWS = 256;
const COLS = 1024;
// Floats with short exact decimal forms (multiples of 1/8), so the JSON body is as small as JSON gets (~1.7 MB).
const values = Float32Array.from({ length: ROWS * COLS }, (_, i) => ((i * 7919) % 2000) / 8 - 125);

const JSON_BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, COLS], data: Array.from(values) }] });
const header = Buffer.from(
  JSON.stringify({
    parameters: { binary_data_output: true },
    inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, COLS], parameters: { binary_data_size: values.byteLength } }],
  }),
);
const BINARY_BODY = Buffer.concat([header, Buffer.from(values.buffer)]);
const BINARY_HEADERS = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };

const RATIO = 'binary / JSON (requests per second)';
const FLOOR_RATIO = 'binary / raw node:http binary echo';
const JSON_ROW = 'JSON in, JSON out';
const BINARY_ROW = 'binary in, binary out';
const FLOOR_ROW = 'raw node:http binary echo (floor)';

module.exports = {
  name: 'binary-vs-json',
  title: 'Echo infer of one FP32 [256,1024] tensor: binary tensor extension vs JSON (and vs a raw node:http binary echo), 16 connections, h2load',
  targets: [{ ratio: RATIO, min: 5 }],
  async run({ rounds, durationSec, warmupSec }) {
    ensureH2load();
    const port = 18140;
    const floorPort = 18150;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-binary-'));
    const jsonFile = path.join(dir, 'json.body');
    const binaryFile = path.join(dir, 'binary.body');
    fs.writeFileSync(jsonFile, JSON_BODY);
    fs.writeFileSync(binaryFile, BINARY_BODY);
    const server = await modelServer(port);
    const floor = await rawBinaryEcho(floorPort);
    const results = { [JSON_ROW]: [], [BINARY_ROW]: [], [FLOOR_ROW]: [] };
    const infer = `http://127.0.0.1:${port}/v2/models/echo/infer`;
    try {
      for (let i = 0; i < rounds; i++) {
        for (const [label, url, bodyFile, headers] of [
          [JSON_ROW, infer, jsonFile, { 'content-type': 'application/json' }],
          [BINARY_ROW, infer, binaryFile, BINARY_HEADERS],
          [FLOOR_ROW, `http://127.0.0.1:${floorPort}/`, binaryFile, { 'content-type': 'application/octet-stream' }],
        ]) {
          results[label].push(await h2load({ url, bodyFile, headers, h1: true, connections: 16, durationSec, warmupSec }));
        }
      }
    } finally {
      await Promise.all([server.stop(), floor.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const rows = Object.entries(results).map(([variant, rs]) => ({
      variant,
      rps: median(rs.map((r) => r.rps)),
      'MB/s in': (median(rs.map((r) => r.rps)) * (variant === JSON_ROW ? JSON_BODY.length : BINARY_BODY.length)) / 1e6,
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
    }));
    return {
      rows,
      ratios: [
        { name: RATIO, value: rows[1].rps / rows[0].rps, min: 5 },
        { name: FLOOR_RATIO, value: rows[1].rps / rows[2].rps },
      ],
      notes: [`bodies: JSON ${(JSON_BODY.length / 1e6).toFixed(2)} MB, binary ${(BINARY_BODY.length / 1e6).toFixed(2)} MB (same values)`],
    };
  },
};
