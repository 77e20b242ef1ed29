'use strict';
/**
 * Writes samples/mlp/model/model.onnx: a deep, narrow multi-layer perceptron built as an ONNX ModelProto with
 * protobufjs from onnx.proto (no Python, no ONNX tooling). Weights come from a fixed-seed generator, so every run
 * writes the same bytes.
 *
 *   u = input FP32 [N, 64] · W_in + b_in                      (the input, projected to H = 32 features)
 *   h0 = tanh(u);  h(k) = tanh(h(k-1) · W + u), k = 1..DEPTH  (one shared H×H matrix, the input injected each time)
 *   logits = h(DEPTH) · W_out + b_out  FP32 [N, 10];  probabilities = softmax(logits)  FP32 [N, 10]
 *
 * The hidden layers are the unrolled fixed-point iteration of a deep-equilibrium layer: W is scaled to be a
 * contraction, so h converges to a point that depends on the input. Thousands of small layers make one row cost
 * about 1 ms on one core, mostly per-layer work that a batch of rows shares (a batch of 64 costs about 0.1 ms per
 * row), in a file of a few kilobytes. Usage: `node samples/mlp/generate.js [output file]`.
 */
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

const INPUTS = 64;
const HIDDEN = 32;
const DEPTH = 2800;
const CLASSES = 10;
const SEED = 20240611;
const OPSET = 17;
const IR_VERSION = 8;
const FLOAT = 1; // TensorProto.DataType.FLOAT

/** mulberry32: a small, fast 32-bit generator; enough for reproducible weights. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal values (Box-Muller) scaled by `scale`. */
function normal(next, count, scale) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function initializer(name, dims, values) {
  return { name, dims, dataType: FLOAT, rawData: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

function tensorInfo(name, dims) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function gemm(name, input, weight, bias, output) {
  return { name, opType: 'Gemm', input: [input, weight, bias], output: [output] };
}

function build() {
  const next = random(SEED);
  // W is scaled to a spectral norm of about 0.9 (a random Gaussian H×H matrix of deviation s has norm ≈ 2s√H).
  const initializers = [
    initializer('w_in', [INPUTS, HIDDEN], normal(next, INPUTS * HIDDEN, 1 / Math.sqrt(INPUTS))),
    initializer('b_in', [HIDDEN], normal(next, HIDDEN, 0.1)),
    initializer('w_hidden', [HIDDEN, HIDDEN], normal(next, HIDDEN * HIDDEN, 0.45 / Math.sqrt(HIDDEN))),
    initializer('w_out', [HIDDEN, CLASSES], normal(next, HIDDEN * CLASSES, 1 / Math.sqrt(HIDDEN))),
    initializer('b_out', [CLASSES], normal(next, CLASSES, 0.1)),
  ];
  const nodes = [gemm('inject', 'input', 'w_in', 'b_in', 'u'), { name: 'act0', opType: 'Tanh', input: ['u'], output: ['h0'] }];
  for (let i = 1; i <= DEPTH; i++) {
    nodes.push(gemm(`hidden${i}`, `h${i - 1}`, 'w_hidden', 'u', `z${i}`));
    nodes.push({ name: `act${i}`, opType: 'Tanh', input: [`z${i}`], output: [`h${i}`] });
  }
  nodes.push(gemm('output_layer', `h${DEPTH}`, 'w_out', 'b_out', 'logits'));
  nodes.push({
    name: 'softmax',
    opType: 'Softmax',
    input: ['logits'],
    output: ['probabilities'],
    attribute: [{ name: 'axis', type: 2 /* INT */, i: -1 }],
  });
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'nest-model-server samples/mlp/generate.js',
    producerVersion: '1',
    docString: `MLP ${INPUTS}→${HIDDEN}→(${DEPTH} shared ${HIDDEN}×${HIDDEN} tanh layers, input injected)→${CLASSES}, seed ${SEED}`,
    graph: {
      name: 'mlp',
      node: nodes,
      initializer: initializers,
      input: [tensorInfo('input', ['batch', INPUTS])],
      output: [tensorInfo('logits', ['batch', CLASSES]), tensorInfo('probabilities', ['batch', CLASSES])],
    },
  };
}

function main() {
  const root = protobuf.loadSync(path.join(__dirname, 'onnx.proto'));
  const ModelProto = root.lookupType('onnx.ModelProto');
  const model = build();
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`invalid ModelProto: ${problem}`);
  const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
  const out = process.argv[2] ?? path.join(__dirname, 'model', 'model.onnx');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes): ${model.docString}`);
}

main();
