'use strict';
/** The servers the scenarios compare: the raw node:http floor and the model server (built, from dist/). */
const path = require('node:path');
const { startServer } = require('./processes');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

function rawEcho(port) {
  return startServer({
    name: 'raw node:http echo',
    script: path.join(__dirname, '..', 'servers', 'raw-echo.js'),
    env: { PORT: String(port) },
    readyUrl: `http://127.0.0.1:${port}/`,
  });
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

module.exports = { rawEcho, modelServer, ROOT };
