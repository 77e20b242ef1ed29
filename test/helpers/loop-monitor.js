'use strict';
/**
 * Preloaded into server processes started by the e2e helpers (`node --require`): measures, from inside the
 * server, how long its event loop was blocked, and prints each block over 40 ms as
 * `[loop-monitor] blocked N ms`, which `ServerUnderTest.observe` reads back. Unlike a probe sent from the test
 * process, this does not count the test process's own work (building a request, reading a large answer).
 */
const TICK_MS = 5;
const REPORT_OVER_MS = 40;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const blocked = now - last - TICK_MS;
  if (blocked > REPORT_OVER_MS) process.stderr.write(`[loop-monitor] blocked ${Math.round(blocked)} ms\n`);
  last = now;
}, TICK_MS).unref();
