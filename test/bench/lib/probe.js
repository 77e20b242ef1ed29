'use strict';
/** Runs the latency prober in a child process pinned to the load core. */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { pinned, LOAD_CORE } = require('./processes');

/**
 * @param {object} o { url, intervalMs, durationSec }
 * @returns {Promise<{count:number,failed:number,p50:number,p99:number,max:number}>} latencies in ms
 */
function probe(o) {
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, [path.join(__dirname, 'probe-child.js')]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`latency prober exited with ${code}`))));
    child.stdin.end(JSON.stringify(o));
  });
}

module.exports = { probe };
