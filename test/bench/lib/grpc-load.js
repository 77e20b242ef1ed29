'use strict';
/** Runs the gRPC load generator in a child process pinned to the load core, like lib/load.js does for HTTP. */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { pinned, LOAD_CORE } = require('./processes');

/**
 * @param {object} o { target ('127.0.0.1:port'), path ('/pkg.Service/Method'), body (Buffer: the encoded request),
 *                     channels, concurrency, durationSec, warmupSec }
 * @returns {Promise<{rps:number,p50:number,p99:number,errors:number,non2xx:number,requests:number,lastError:string}>}
 */
function grpcLoad(o) {
  const spec = JSON.stringify({ ...o, body: Buffer.from(o.body).toString('base64') });
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, [path.join(__dirname, 'grpc-load-child.js')]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`gRPC load generator exited with ${code}`));
      resolve(JSON.parse(out));
    });
    child.stdin.end(spec);
  });
}

/** The bytes of an inference.ModelInferRequest, encoded by a stock protobuf implementation from the served .proto. */
function encodeInferRequest(message) {
  const protobuf = require('protobufjs');
  const proto = path.resolve(__dirname, '..', '..', '..', 'libs', 'model-server', 'src', 'protocol', 'v2', 'grpc', 'grpc_predict_v2.proto');
  const type = new protobuf.Root().loadSync(proto, { keepCase: true }).lookupType('inference.ModelInferRequest');
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

module.exports = { grpcLoad, encodeInferRequest };
