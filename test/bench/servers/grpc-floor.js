'use strict';
/**
 * The gRPC floor: plain @grpc/grpc-js serving inference.GRPCInferenceService/ModelInfer with pass-through
 * serializers, answering every call with one pre-encoded ModelInferResponse, the echo of a raw FP32 [1,4] tensor
 * as the model server answers it (model name, a request id, the output's spec, raw_output_contents). What is left
 * is grpc-js's own cost per call. gRPC on PORT + 1; PORT answers HTTP GETs for readiness, as the model server does.
 */
const http = require('node:http');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const port = Number(process.env.PORT ?? 19000);
const PROTO = path.resolve(__dirname, '..', '..', '..', 'libs', 'model-server', 'src', 'protocol', 'v2', 'grpc', 'grpc_predict_v2.proto');

const type = new protobuf.Root().loadSync(PROTO, { keepCase: true }).lookupType('inference.ModelInferResponse');
const data = new Float32Array([5.1, 3.5, 1.4, 0.2]);
const RESPONSE = Buffer.from(
  type
    .encode(
      type.fromObject({
        model_name: 'echo',
        id: '00000000-0000-4000-8000-000000000000',
        outputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
        raw_output_contents: [Buffer.from(data.buffer)],
      }),
    )
    .finish(),
);

const identity = (bytes) => bytes;
// The model server's grpc-js settings that change the cost of a call: channelz off (it serves no channelz service).
const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
server.addService(
  {
    ModelInfer: {
      path: '/inference.GRPCInferenceService/ModelInfer',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  { ModelInfer: (_call, callback) => callback(null, RESPONSE) },
);
server.bindAsync(`127.0.0.1:${port + 1}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  http
    .createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ready":true}');
    })
    .listen(port, '127.0.0.1');
});
