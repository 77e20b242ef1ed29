#!/usr/bin/env node
import process from 'node:process';
import { exitWithError } from './cli-exit';
import { serveWithGcFlag, stopWhenLauncherDies } from './gc-threads';

// Decided before the server's modules load: when the server must run with a V8 flag this process lacks (see
// gc-threads.ts), this process only starts it in a child and passes signals on, and stays small.
const argv = process.argv.slice(2);
let launched: ReturnType<typeof serveWithGcFlag>;
try {
  launched = serveWithGcFlag(argv);
} catch (err) {
  exitWithError(err);
}
if (launched === null) {
  stopWhenLauncherDies();
  // Loaded only now: a launcher never loads the server's modules.
  const { runCli } = require('./serve-command') as typeof import('./serve-command');
  runCli(argv);
}
