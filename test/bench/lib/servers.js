'use strict';
/** The servers the scenarios compare: the raw node:http floor and the model server (built, from dist/). */
const path = require('node:path');
const { startServer } = require('./processes');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

/** A raw node:http floor server (test/bench/servers/<script>) on `port`. */
function rawFloor(name, script, port) {
  return startServer({ name, script: path.join(__dirname, '..', 'servers', script), env: { PORT: String(port) }, readyUrl: `http://127.0.0.1:${port}/` });
}

function rawEcho(port) {
  return rawFloor('raw node:http echo', 'raw-echo.js', port);
}

function rawBinaryEcho(port) {
  return rawFloor('raw node:http binary echo', 'raw-binary-echo.js', port);
}

/** The model server with a config file (default: the benchmark models) and extra env. */
function modelServer(port, { config = path.join(__dirname, '..', 'servers', 'bench-models.yaml'), env = {}, args = [] } = {}) {
  return startServer({
    name: 'nest-model-server',
    script: CLI,
    args: ['serve', '--config', config, ...args],
    env: { PORT: String(port), HOST: '127.0.0.1', GRPC_PORT: String(port + 1), ...env },
    readyUrl: `http://127.0.0.1:${port}/v2/health/ready`,
  });
}

module.exports = { rawFloor, rawEcho, rawBinaryEcho, modelServer, ROOT };
