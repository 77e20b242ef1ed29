'use strict';
/** Runs autocannon in a child process pinned to the load core, so load and server never share a core. */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { pinned, LOAD_CORE } = require('./processes');

/**
 * @param {object} o { url, method, body (string|Buffer), headers, connections, durationSec, warmupSec, amount (requests, instead of a duration) }
 * @returns {Promise<{rps:number,p50:number,p99:number,errors:number,non2xx:number,requests:number}>}
 */
function load(o) {
  const spec = JSON.stringify({
    ...o,
    body: o.body === undefined ? undefined : Buffer.from(o.body).toString('base64'),
  });
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, [path.join(__dirname, 'load-child.js')]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(out));
    });
    child.stdin.end(spec);
  });
}

module.exports = { load };
