'use strict';
/**
 * h2load (Debian's nghttp2-client), a C HTTP/2 load generator, pinned to the load core: gRPC load that costs far
 * less than the server it measures (a grpc-js generator costs about as much). Installed with apt-get when missing.
 */
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pinned, LOAD_CORE } = require('./processes');

function hasH2load() {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes sure `h2load` is on the PATH, installing nghttp2-client when it is not; throws a clear error when it cannot. */
function ensureH2load() {
  if (hasH2load()) return;
  console.log('h2load is missing: installing nghttp2-client with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', ['install', '-y', '-qq', 'nghttp2-client'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    throw new Error(`h2load is missing and nghttp2-client could not be installed (${err.message}); install it (apt-get install nghttp2-client) and run again`, { cause: err });
  }
  if (!hasH2load()) throw new Error('nghttp2-client was installed but h2load is still not on the PATH');
}

/** The gRPC frame of a message: 1 byte "not compressed", 4 bytes big-endian length, the message. */
function grpcFrame(message) {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function count(text, pattern) {
  const m = pattern.exec(text);
  return m === null ? NaN : Number(m[1]);
}

/** The headers of a gRPC call. */
const GRPC_HEADERS = { 'content-type': 'application/grpc', te: 'trailers' };

/**
 * Posts `bodyFile`'s bytes to `url` with `connections` × `streams` in flight for `durationSec` after `warmupSec`:
 * by default over HTTP/2 as a gRPC client does (the file holds the framed request; content-type application/grpc,
 * te: trailers), or over HTTP/1.1 (`h1`, one request at a time per connection) with `headers`.
 * Latencies come from h2load's per-request log. h2load sees HTTP statuses only: a gRPC error travels in the
 * trailers of a 200, so callers check the answer's content once by other means.
 *
 * @returns {Promise<{rps:number,p50:number,p99:number,errors:number,non2xx:number,requests:number}>}
 */
function h2load({ url, bodyFile, connections, streams = 1, durationSec, warmupSec = 0, h1 = false, headers = GRPC_HEADERS }) {
  const log = path.join(os.tmpdir(), `h2load-${process.pid}-${Date.now()}.log`);
  const args = [
    ...(h1 ? ['--h1'] : []),
    '-c', String(connections),
    '-m', String(streams),
    '-D', String(durationSec),
    '-d', bodyFile,
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '--log-file', log,
    ...(warmupSec > 0 ? ['--warm-up-time', String(warmupSec)] : []),
    url,
  ];
  const [cmd, argv] = pinned(LOAD_CORE, 'h2load', args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      let latencies = [];
      try {
        // Each line: start time (µs since epoch), HTTP status, time for the request (µs).
        latencies = fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => Number(l.split('\t')[2]) / 1000)
          .sort((a, b) => a - b);
        fs.rmSync(log, { force: true });
      } catch {
        // no log: the run failed, reported below
      }
      const rps = count(out, /finished in [\d.]+\w*, ([\d.]+) req\/s/);
      if (code !== 0 || !Number.isFinite(rps)) return reject(new Error(`h2load exited with ${code}: ${out.slice(-2000)}`));
      const requests = count(out, /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/);
      // "failed" counts every failure, HTTP statuses other than 2xx included; "errored" those below HTTP.
      const failed = count(out, /(\d+) failed/);
      const errored = count(out, /(\d+) errored/);
      resolve({ rps, requests, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors: errored, non2xx: failed - errored });
    });
  });
}

module.exports = { ensureH2load, h2load, grpcFrame };
