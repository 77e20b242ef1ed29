#!/usr/bin/env node
'use strict';
/**
 * Adds to package-lock.json the platform-specific optional packages (other operating systems and CPUs) that a
 * registry mirror serving only this machine's platform leaves out. Without them `npm ci` refuses the lock file
 * ("Missing: @swc/core-darwin-arm64@ from lock file"). Each added entry names its os/cpu, so npm skips it on
 * other platforms and never downloads it. Run after `npm install`: node scripts/complete-lockfile.js
 */
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = { x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32', ppc64: 'ppc64', s390x: 's390x', loong64: 'loong64', riscv64: 'riscv64', wasm32: 'wasm32' };

/** os, cpu and libc from a platform package's name, e.g. "@swc/core-linux-arm64-musl". */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  if (os === undefined || cpu === undefined) return undefined;
  const entry = { os: [os], cpu: [cpu] };
  if (os === 'linux') entry.libc = [parts.some((p) => p.startsWith('musl')) ? 'musl' : 'glibc'];
  return entry;
}

let added = 0;
for (const [key, pkg] of Object.entries(packages)) {
  if (!pkg.optionalDependencies) continue;
  const base = key === '' ? 'node_modules/' : `${key}/node_modules/`;
  for (const [name, version] of Object.entries(pkg.optionalDependencies)) {
    if (packages[`${base}${name}`] !== undefined || packages[`node_modules/${name}`] !== undefined) continue;
    const platform = platformOf(name);
    if (platform === undefined) continue;
    packages[`node_modules/${name}`] = { version: version.replace(/^[\^~=]/, ''), ...platform, optional: true };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries to package-lock.json`);
