'use strict';
/** Resident memory of a process, in MiB (Linux: /proc; elsewhere: ps). */
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

function rssMiB(pid) {
  if (process.platform === 'linux') {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
    return kb / 1024;
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

module.exports = { rssMiB };
