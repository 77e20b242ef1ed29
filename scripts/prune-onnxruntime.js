#!/usr/bin/env node
'use strict';
/**
 * Deletes the onnxruntime-node binaries of other platforms from node_modules, keeping this machine's operating
 * system and CPU (the package ships CPU builds for darwin, linux and win32, x64 and arm64: about 290 MB, of which
 * one platform is a sixth). The image's dependency stage runs it so the final stage holds one platform's binaries.
 * Usage: node scripts/prune-onnxruntime.js [node_modules folder] (default ./node_modules)
 */
const fs = require('node:fs');
const path = require('node:path');

const modules = path.resolve(process.argv[2] ?? 'node_modules');
const bin = path.join(modules, 'onnxruntime-node', 'bin');
if (!fs.existsSync(bin)) {
  process.stderr.write(`prune-onnxruntime: no ${bin}; nothing to prune\n`);
  process.exit(0);
}
let removed = 0;
let kept = 0;
for (const napi of fs.readdirSync(bin)) {
  const napiDir = path.join(bin, napi);
  if (!fs.statSync(napiDir).isDirectory()) continue;
  for (const platform of fs.readdirSync(napiDir)) {
    const platformDir = path.join(napiDir, platform);
    if (platform !== process.platform) {
      fs.rmSync(platformDir, { recursive: true, force: true });
      removed++;
      continue;
    }
    for (const arch of fs.readdirSync(platformDir)) {
      if (arch === process.arch) kept++;
      else {
        fs.rmSync(path.join(platformDir, arch), { recursive: true, force: true });
        removed++;
      }
    }
  }
}
if (kept === 0) {
  process.stderr.write(`prune-onnxruntime: onnxruntime-node ships no binary for ${process.platform}/${process.arch}\n`);
  process.exit(1);
}
process.stdout.write(`prune-onnxruntime: kept ${process.platform}/${process.arch}, removed ${removed} other platform folder(s)\n`);
