'use strict';
/**
 * gRPC ModelInfer, raw FP32 [1,4] echo, against grpc-js's own floor (test/bench/servers/grpc-floor.js: the same
 * RPC answered with a fixed pre-encoded response). Both are loaded by h2load (C, on the load core; a grpc-js load
 * generator costs as much as the server it measures) with the same framed request, 4 connections × 16 streams,
 * alternating in slices (lib/interleave.js). h2load sees HTTP statuses only, so before the load one grpc-js call
 * with the same bytes checks that each server's answer is a real echo, not a fast error in the trailers.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');
const { interleaved, pairedRatio } = require('../lib/interleave');
const { encodeInferRequest } = require('../lib/grpc-load');
const { ensureH2load, h2load, grpcFrame } = require('../lib/h2load');
const { startServer } = require('../lib/processes');
const { modelServer, ROOT } = require('../lib/servers');
const { summarize } = require('../lib/stats');

const FLOOR_PORT = 19010; // readiness over HTTP; gRPC on + 1, as the model server
const SERVER_PORT = 19020;
const PATH = '/inference.GRPCInferenceService/ModelInfer';
const PROTO = path.join(ROOT, 'libs', 'model-server', 'src', 'protocol', 'v2', 'grpc', 'grpc_predict_v2.proto');
const DATA = new Float32Array([5.1, 3.5, 1.4, 0.2]);
const REQUEST = encodeInferRequest({
  model_name: 'echo',
  inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
  raw_input_contents: [Buffer.from(DATA.buffer)],
});

/** One call with the benchmark's bytes; throws unless the answer is an OK status carrying the echo of the input. */
async function checkEcho(label, target) {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  try {
    const bytes = await new Promise((resolve, reject) =>
      client.makeUnaryRequest(PATH, (b) => b, (b) => b, REQUEST, (err, value) => (err ? reject(err) : resolve(value))),
    );
    const type = new protobuf.Root().loadSync(PROTO, { keepCase: true }).lookupType('inference.ModelInferResponse');
    const r = type.toObject(type.decode(bytes), { longs: Number });
    const out = r.outputs?.[0];
    const raw = r.raw_output_contents?.[0];
    const ok =
      r.model_name === 'echo' && out?.datatype === 'FP32' && out.shape.join() === '1,4' && raw !== undefined && Buffer.compare(raw, Buffer.from(DATA.buffer)) === 0;
    if (!ok) throw new Error(`not an echo: ${JSON.stringify(r)}`);
  } catch (err) {
    throw new Error(`${label} does not answer the benchmark's ModelInfer with its echo: ${err.message}`, { cause: err });
  } finally {
    client.close();
  }
}

module.exports = {
  name: 'grpc-floor',
  title: 'gRPC ModelInfer, raw FP32 [1,4], h2load 4 connections × 16 streams: model server vs grpc-js answering a fixed response',
  targets: [{ ratio: 'nest-model-server / grpc-js floor', min: 0.85 }],
  async run({ rounds, durationSec, warmupSec }) {
    ensureH2load();
    const bodyFile = path.join(os.tmpdir(), `grpc-floor-${process.pid}.bin`);
    fs.writeFileSync(bodyFile, grpcFrame(REQUEST));
    const floor = await startServer({
      name: 'grpc-js floor',
      script: path.join(__dirname, '..', 'servers', 'grpc-floor.js'),
      env: { PORT: String(FLOOR_PORT) },
      readyUrl: `http://127.0.0.1:${FLOOR_PORT}/`,
    });
    let nest;
    let results;
    try {
      nest = await modelServer(SERVER_PORT);
      await checkEcho('the grpc-js floor', `127.0.0.1:${FLOOR_PORT + 1}`);
      await checkEcho('the model server', `127.0.0.1:${SERVER_PORT + 1}`);
      const variant = (label, port) => ({
        label,
        measure: (slice) => h2load({ url: `http://127.0.0.1:${port}${PATH}`, bodyFile, connections: 4, streams: 16, ...slice }),
      });
      results = await interleaved([variant('grpc-js floor', FLOOR_PORT + 1), variant('nest-model-server', SERVER_PORT + 1)], {
        rounds,
        durationSec,
        warmupSec,
      });
    } finally {
      await floor.stop();
      if (nest !== undefined) await nest.stop();
      fs.rmSync(bodyFile, { force: true });
    }
    const rows = summarize(results);
    const paired = pairedRatio(results, 'nest-model-server', 'grpc-js floor');
    return {
      rows,
      ratios: [{ name: 'nest-model-server / grpc-js floor', value: rows[1].rps / rows[0].rps, min: 0.85 }],
      notes: [
        `the ratio is that of the medians in the table; the median of ${paired.pairs} per-slice ratios is ${paired.value.toFixed(2)}`,
        `errors are h2load's errored requests plus its non-2xx answers; one grpc-js call with the same ${REQUEST.length}-byte request checked that both servers answer OK with the echo`,
      ],
    };
  },
};
