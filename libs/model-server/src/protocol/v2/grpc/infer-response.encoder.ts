import { tensorToRaw } from '../../../codecs';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Tensor } from '../../../model/tensor.interface';
import { encodeParameterEntries } from './infer-parameter.codec';
import { delimitedSize, ProtoWriter, varint32Size, varint64Size, WT_BYTES } from './proto-wire.util';

const TWO_32 = 4294967296;

/** One output, measured: everything the write pass needs, computed once. */
interface OutputPlan {
  tensor: Tensor;
  nameLength: number;
  /** Bytes of the packed shape varints; `shapeSize` with tag and length. */
  shapeBytes: number;
  shapeSize: number;
  parameters: Buffer | null;
  /** Raw bytes (raw responses), else null. */
  raw: Uint8Array | null;
  /** Size of the InferTensorContents message (0: none). */
  contentsSize: number;
  /** Size of the packed payload inside contents (not for BYTES). */
  payloadSize: number;
  size: number;
}

/**
 * True when a response must carry its tensors as raw_output_contents: the request was raw, or an output is
 * FP16 / BF16 (protobuf has no 16-bit float, and raw contents are all or nothing).
 *
 * @internal
 */
export function needsRawResponse(response: InferenceResponse, requestWasRaw: boolean): boolean {
  if (requestWasRaw) return true;
  for (const t of response.outputs) if (t.datatype === 'FP16' || t.datatype === 'BF16') return true;
  return false;
}

/**
 * Encodes the data plane's response as a ModelInferResponse in one buffer of its exact size: tensors as
 * raw_output_contents when `raw` (BYTES length-prefixed), else in the typed contents field of their datatype
 * (packed; FP32/FP64 copied as they lie in memory, 64-bit integers from their two 32-bit halves, exact).
 * With `wrapField`, the message is written as that length-delimited field of an outer message
 * (ModelStreamInferResponse.infer_response), so the stream needs no second copy.
 *
 * @internal
 */
export function encodeInferResponse(response: InferenceResponse, raw: boolean, wrapField = 0): Buffer {
  const outputs = response.outputs;
  const plans = new Array<OutputPlan>(outputs.length);
  const nameLength = Buffer.byteLength(response.model_name, 'utf8');
  const versionLength = response.model_version === undefined ? 0 : Buffer.byteLength(response.model_version, 'utf8');
  const idLength = Buffer.byteLength(response.id, 'utf8');
  const parameters = encodeParameterEntries(response.parameters, 4);
  let size = delimitedSize(nameLength) + delimitedSize(idLength);
  if (response.model_version !== undefined) size += delimitedSize(versionLength);
  if (parameters !== null) size += parameters.length;
  for (let i = 0; i < outputs.length; i++) {
    const plan = planOutput(outputs[i], raw);
    plans[i] = plan;
    size += delimitedSize(plan.size);
    if (plan.raw !== null) size += delimitedSize(plan.raw.byteLength);
  }
  const w = new ProtoWriter(wrapField === 0 ? size : 1 + varint32Size(size) + size);
  if (wrapField !== 0) {
    w.tag(wrapField, WT_BYTES);
    w.uint32(size);
  }
  w.stringField(1, response.model_name, nameLength);
  if (response.model_version !== undefined) w.stringField(2, response.model_version, versionLength);
  w.stringField(3, response.id, idLength);
  if (parameters !== null) w.raw(parameters);
  for (const plan of plans) writeOutput(w, plan);
  if (raw) for (const plan of plans) w.bytesField(6, plan.raw!);
  return w.buf;
}

/**
 * A ModelStreamInferResponse for a failed request: its error message, and the model name, version and id it
 * was for (so a client can tell which request failed).
 *
 * @internal
 */
export function encodeStreamError(message: string, modelName: string, modelVersion: string | undefined, id: string): Buffer {
  const messageLength = Buffer.byteLength(message, 'utf8');
  const nameLength = Buffer.byteLength(modelName, 'utf8');
  const versionLength = modelVersion === undefined ? 0 : Buffer.byteLength(modelVersion, 'utf8');
  const idLength = Buffer.byteLength(id, 'utf8');
  let inner = delimitedSize(nameLength);
  if (modelVersion !== undefined) inner += delimitedSize(versionLength);
  if (idLength > 0) inner += delimitedSize(idLength);
  const w = new ProtoWriter(delimitedSize(messageLength) + delimitedSize(inner));
  w.stringField(1, message, messageLength);
  w.tag(2, WT_BYTES);
  w.uint32(inner);
  w.stringField(1, modelName, nameLength);
  if (modelVersion !== undefined) w.stringField(2, modelVersion, versionLength);
  if (idLength > 0) w.stringField(3, id, idLength);
  return w.buf;
}

function planOutput(tensor: Tensor, raw: boolean): OutputPlan {
  const nameLength = Buffer.byteLength(tensor.name, 'utf8');
  let shapeBytes = 0;
  for (const d of tensor.shape) shapeBytes += varint64Size(d % TWO_32, Math.floor(d / TWO_32));
  const shapeSize = tensor.shape.length === 0 ? 0 : delimitedSize(shapeBytes);
  const parameters = encodeParameterEntries(tensor.parameters, 4);
  const plan: OutputPlan = { tensor, nameLength, shapeBytes, shapeSize, parameters, raw: null, contentsSize: 0, payloadSize: 0, size: 0 };
  if (raw) plan.raw = tensorToRaw(tensor);
  else measureContents(plan);
  plan.size =
    delimitedSize(nameLength) +
    delimitedSize(tensor.datatype.length) +
    shapeSize +
    (parameters === null ? 0 : parameters.length) +
    (plan.contentsSize === 0 ? 0 : delimitedSize(plan.contentsSize));
  return plan;
}

function measureContents(plan: OutputPlan): void {
  const t = plan.tensor;
  let payload = 0;
  switch (t.datatype) {
    case 'FP32':
    case 'FP64':
    case 'BOOL':
      payload = (t.data as Float32Array | Float64Array | Uint8Array).byteLength;
      break;
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const d = t.data as Int8Array | Int16Array | Int32Array;
      for (let i = 0; i < d.length; i++) payload += d[i] < 0 ? 10 : varint32Size(d[i]);
      break;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const d = t.data as Uint8Array | Uint16Array | Uint32Array;
      for (let i = 0; i < d.length; i++) payload += varint32Size(d[i]);
      break;
    }
    case 'INT64':
    case 'UINT64': {
      const words = wordsOf(t.data as BigInt64Array | BigUint64Array);
      for (let i = 0; i < words.length; i += 2) payload += varint64Size(words[i], words[i + 1]);
      break;
    }
    case 'BYTES': {
      let size = 0;
      for (const b of t.data as Buffer[]) size += delimitedSize(b.byteLength);
      plan.contentsSize = size;
      return;
    }
    default:
      // FP16 / BF16 never reach here: needsRawResponse sends them raw.
      throw new Error(`${t.datatype} cannot travel as typed contents`);
  }
  plan.payloadSize = payload;
  plan.contentsSize = payload === 0 ? 0 : delimitedSize(payload);
}

const CONTENTS_FIELD: Record<string, number> = {
  BOOL: 1,
  INT8: 2,
  INT16: 2,
  INT32: 2,
  INT64: 3,
  UINT8: 4,
  UINT16: 4,
  UINT32: 4,
  UINT64: 5,
  FP32: 6,
  FP64: 7,
  BYTES: 8,
};

function writeOutput(w: ProtoWriter, plan: OutputPlan): void {
  const t = plan.tensor;
  w.tag(5, WT_BYTES);
  w.uint32(plan.size);
  w.stringField(1, t.name, plan.nameLength);
  w.stringField(2, t.datatype, t.datatype.length);
  if (plan.shapeSize > 0) {
    w.tag(3, WT_BYTES);
    w.uint32(plan.shapeBytes);
    for (const d of t.shape) w.varint64(d % TWO_32, Math.floor(d / TWO_32));
  }
  if (plan.parameters !== null) w.raw(plan.parameters);
  if (plan.contentsSize === 0) return;
  w.tag(5, WT_BYTES);
  w.uint32(plan.contentsSize);
  writeContents(w, plan);
}

function writeContents(w: ProtoWriter, plan: OutputPlan): void {
  const t = plan.tensor;
  const field = CONTENTS_FIELD[t.datatype];
  if (t.datatype === 'BYTES') {
    for (const b of t.data as Buffer[]) w.bytesField(field, b);
    return;
  }
  w.tag(field, WT_BYTES);
  w.uint32(plan.payloadSize);
  const buf = w.buf;
  switch (t.datatype) {
    case 'FP32':
    case 'FP64': {
      const d = t.data as Float32Array | Float64Array;
      w.raw(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      return;
    }
    case 'BOOL': {
      const d = t.data as Uint8Array;
      let p = w.pos;
      for (let i = 0; i < d.length; i++) buf[p++] = d[i] === 0 ? 0 : 1;
      w.pos = p;
      return;
    }
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const d = t.data as Int8Array | Int16Array | Int32Array;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v < 0) w.varint64(v >>> 0, 0xffffffff);
        else w.uint32(v);
      }
      return;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const d = t.data as Uint8Array | Uint16Array | Uint32Array;
      for (let i = 0; i < d.length; i++) w.uint32(d[i]);
      return;
    }
    default: {
      const words = wordsOf(t.data as BigInt64Array | BigUint64Array);
      for (let i = 0; i < words.length; i += 2) w.varint64(words[i], words[i + 1]);
    }
  }
}

/** A 64-bit integer array as little-endian 32-bit halves (lo, hi, lo, hi...), sharing its memory. */
function wordsOf(d: BigInt64Array | BigUint64Array): Uint32Array {
  return new Uint32Array(d.buffer, d.byteOffset, d.length * 2);
}
