'use strict';
/** Runs the streaming load generator (stream-load-child.js) in a child process pinned to the load core. */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { pinned, LOAD_CORE } = require('./processes');

/**
 * @param {object} spec { mode ('sse' | 'grpc' | 'unary'), port, path, body, grpcPort, grpcBody (base64), tokens,
 *                        concurrency, channels, durationSec, warmupSec }
 * @returns {Promise<{streamsPerSec:number, partsPerSec:number, ttfcP50:number, ttfcP99:number, partsPerStream:number, errors:number, lastError:string}>}
 */
function streamLoad(spec) {
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, [path.join(__dirname, 'stream-load-child.js')]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`streaming load generator exited with ${code}`))));
    child.stdin.end(JSON.stringify(spec));
  });
}

/** CPU seconds a process has used so far (user + system; Linux /proc), or NaN elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 per second)
  } catch {
    return NaN;
  }
}

module.exports = { streamLoad, cpuSeconds };
