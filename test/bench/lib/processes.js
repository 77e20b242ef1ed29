'use strict';
/** Starting and stopping benchmark servers, each pinned to a core, and waiting until they answer. */
const { spawn } = require('node:child_process');
const http = require('node:http');

const SERVER_CORE = process.env.BENCH_SERVER_CORE ?? '0';
const LOAD_CORE = process.env.BENCH_LOAD_CORE ?? '1';

function pinned(core, command, args) {
  return process.platform === 'linux' ? ['taskset', ['-c', core, command, ...args]] : [command, args];
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

/**
 * Starts `node <script> ...args` pinned to `core` (the server core unless given), with `env`, and resolves once
 * `readyUrl` answers 200.
 * Refuses to start when `readyUrl` already answers before the spawn.
 * Returns { child, stop() }.
 */
async function startServer({ script, args = [], env = {}, readyUrl, timeoutMs = 60000, name, core = SERVER_CORE }) {
  // A server left over from an interrupted run would answer the readiness check in place of the new one (which
  // then fails to bind), and the run would measure the wrong process.
  if ((await get(readyUrl)) !== 0) throw new Error(`${name}: something already answers at ${readyUrl}; stop it before benchmarking`);
  const [cmd, argv] = pinned(core, process.execPath, [script, ...args]);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  // The model server names the process that serves ("... pid N)"): on one core its CLI serves from a child
  // process run with V8's single-threaded collector (src/gc-threads.ts), whose memory and CPU are the ones to read.
  let servingPid;
  let stdout = '';
  child.stdout.on('data', (d) => {
    if (servingPid !== undefined) return;
    stdout = (stdout + d).slice(-4000);
    const m = /\bpid (\d+)\)/.exec(stdout);
    if (m !== null) servingPid = Number(m[1]);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if ((await get(readyUrl)) === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if ((await get(readyUrl)) !== 200) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not become ready at ${readyUrl} within ${timeoutMs} ms: ${stderr}`);
  }
  return {
    child,
    get pid() {
      return servingPid ?? child.pid;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10000).unref();
      }),
  };
}

module.exports = { startServer, pinned, LOAD_CORE, SERVER_CORE, get };
