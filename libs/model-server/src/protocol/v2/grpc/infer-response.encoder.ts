import { Buffer } from 'node:buffer';
import { elementSize, tensorToRaw } from '../../../codecs';
import { clip } from '../../../errors/clip.util';
import { responseTooLarge } from '../../../errors/request.errors';
import { ByteStrings } from '../../../model/byte-strings';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Tensor } from '../../../model/tensor.interface';
import { encodeParameterEntries } from './infer-parameter.codec';
import { SEND_SETTING } from './message-limit.interceptor';
import { delimitedSize, ProtoWriter, varint32Size, varint64Size, WT_BYTES } from './proto-wire.util';
import { copySliced, COPY_CHUNK, runSliced, WorkSlicer, type CancellableCall, type SlicedWork } from './work-slicer.util';

const TWO_32 = 4294967296;

/** One output, measured: everything the write pass needs, computed once. */
interface OutputPlan {
  tensor: Tensor;
  nameLength: number;
  /** Bytes of the packed shape varints; `shapeSize` with tag and length. */
  shapeBytes: number;
  shapeSize: number;
  parameters: Buffer | null;
  /** Size of its raw_output_contents entry's bytes (raw responses), else -1. */
  rawSize: number;
  /** Size of the InferTensorContents message (0: none). */
  contentsSize: number;
  /** Size of the packed payload inside contents (not for BYTES). */
  payloadSize: number;
  size: number;
}

/** Elements measured or written between two slice checks. */
const ELEMENTS_PER_STEP = 4096;
/** Shorter BYTES elements are copied byte by byte (cheaper than a native call each). */
const SHORT_COPY = 64;

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
 * (packed; FP32/FP64 copied as they lie in memory, 64-bit integers from their two 32-bit halves, exact; BYTES
 * elements iterated, so a Buffer[] and a ByteStrings both work). With `wrapField`, the message is written as
 * that length-delimited field of an outer message (ModelStreamInferResponse.infer_response), so the stream
 * needs no second copy.
 *
 * The size is measured first: a message over `maxBytes` is refused (RESOURCE_EXHAUSTED naming
 * maxSendMessageBytes) before anything is allocated for it. Large responses are measured and written in
 * slices with the event loop running in between (stopping once `call` is cancelled); small ones are encoded
 * synchronously (the Buffer itself).
 *
 * @internal
 */
export function encodeInferResponse(
  response: InferenceResponse,
  raw: boolean,
  maxBytes: number,
  wrapField = 0,
  call?: CancellableCall,
): Buffer | Promise<Buffer> {
  const slicer = new WorkSlicer();
  return runSliced(encodeSteps(response, raw, maxBytes, wrapField, slicer), slicer, call);
}

function* encodeSteps(response: InferenceResponse, raw: boolean, maxBytes: number, wrapField: number, s: WorkSlicer): SlicedWork<Buffer> {
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
    const plan = newPlan(outputs[i]);
    // Only the element-wise sizes need a pass (and slices); the others are computed at once.
    if (raw) plan.rawSize = outputs[i].datatype === 'BYTES' ? measureRawBytes(plan.tensor) : rawSizeOf(plan.tensor);
    else if (!measureFixed(plan)) yield* measureContents(plan, s);
    finishPlan(plan);
    plans[i] = plan;
    size += delimitedSize(plan.size);
    if (plan.rawSize >= 0) size += delimitedSize(plan.rawSize);
  }
  const total = wrapField === 0 ? size : 1 + varint32Size(size) + size;
  if (total > maxBytes) throw responseTooLarge(total, maxBytes, SEND_SETTING);
  const w = new ProtoWriter(total);
  if (wrapField !== 0) {
    w.tag(wrapField, WT_BYTES);
    w.uint32(size);
  }
  w.stringField(1, response.model_name, nameLength);
  if (response.model_version !== undefined) w.stringField(2, response.model_version, versionLength);
  w.stringField(3, response.id, idLength);
  if (parameters !== null) w.raw(parameters);
  for (const plan of plans) {
    writeHeader(w, plan);
    if (plan.contentsSize > 0) yield* writeContents(w, plan, s);
  }
  if (raw) {
    for (const plan of plans) {
      // Small entries are copied here: a generator per entry costs more than the copy.
      const bytes = startRawEntry(w, plan);
      if (bytes === null) yield* writeByteStrings(w, plan.tensor.data as ByteStrings, 0, true, s);
      else if (bytes.byteLength <= COPY_CHUNK) w.raw(bytes);
      else yield* writeSliced(w, bytes, s);
    }
  }
  return w.buf;
}

/**
 * A ModelStreamInferResponse for a failed request: its error message, and the model name, version and id it
 * was for (so a client can tell which request failed; the name and version clipped, as they may be anything).
 * `parameters`, when given, are the response's (a decoupled stream's `triton_final_response`).
 *
 * @internal
 */
export function encodeStreamError(message: string, modelName: string, modelVersion: string | undefined, id: string, parameters?: InferenceResponse['parameters']): Buffer {
  modelName = clip(modelName);
  if (modelVersion !== undefined) modelVersion = clip(modelVersion);
  const messageLength = Buffer.byteLength(message, 'utf8');
  const nameLength = Buffer.byteLength(modelName, 'utf8');
  const versionLength = modelVersion === undefined ? 0 : Buffer.byteLength(modelVersion, 'utf8');
  const idLength = Buffer.byteLength(id, 'utf8');
  const entries = encodeParameterEntries(parameters, 4);
  let inner = delimitedSize(nameLength);
  if (modelVersion !== undefined) inner += delimitedSize(versionLength);
  if (idLength > 0) inner += delimitedSize(idLength);
  if (entries !== null) inner += entries.length;
  const w = new ProtoWriter(delimitedSize(messageLength) + delimitedSize(inner));
  w.stringField(1, message, messageLength);
  w.tag(2, WT_BYTES);
  w.uint32(inner);
  w.stringField(1, modelName, nameLength);
  if (modelVersion !== undefined) w.stringField(2, modelVersion, versionLength);
  if (idLength > 0) w.stringField(3, id, idLength);
  if (entries !== null) w.raw(entries);
  return w.buf;
}

function newPlan(tensor: Tensor): OutputPlan {
  const nameLength = Buffer.byteLength(tensor.name, 'utf8');
  let shapeBytes = 0;
  for (const d of tensor.shape) shapeBytes += varint64Size(d % TWO_32, Math.floor(d / TWO_32));
  const shapeSize = tensor.shape.length === 0 ? 0 : delimitedSize(shapeBytes);
  const parameters = encodeParameterEntries(tensor.parameters, 4);
  return { tensor, nameLength, shapeBytes, shapeSize, parameters, rawSize: -1, contentsSize: 0, payloadSize: 0, size: 0 };
}

/** The output's message size, once its contents are measured. */
function finishPlan(plan: OutputPlan): void {
  plan.size =
    delimitedSize(plan.nameLength) +
    delimitedSize(plan.tensor.datatype.length) +
    plan.shapeSize +
    (plan.parameters === null ? 0 : plan.parameters.length) +
    (plan.contentsSize === 0 ? 0 : delimitedSize(plan.contentsSize));
}

/** Bytes of a fixed-size tensor as raw contents. */
function rawSizeOf(t: Tensor): number {
  return (t.data as ArrayLike<unknown>).length * elementSize(t.datatype);
}

/** Bytes of BYTES as raw contents: a 4-byte length before each element. */
function measureRawBytes(t: Tensor): number {
  const data = t.data as ByteStrings;
  return data.byteLength + 4 * data.length;
}

/** Measures contents whose size follows from their length (FP32, FP64, BOOL); false for the others. */
function measureFixed(plan: OutputPlan): boolean {
  const t = plan.tensor;
  if (t.datatype !== 'FP32' && t.datatype !== 'FP64' && t.datatype !== 'BOOL') return false;
  const payload = (t.data as Float32Array | Float64Array | Uint8Array).byteLength;
  plan.payloadSize = payload;
  plan.contentsSize = payload === 0 ? 0 : delimitedSize(payload);
  return true;
}

function* measureContents(plan: OutputPlan, s: WorkSlicer): SlicedWork<void> {
  const t = plan.tensor;
  let payload = 0;
  switch (t.datatype) {
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const d = t.data as Int8Array | Int16Array | Int32Array;
      for (let i = 0; i < d.length; ) {
        const stop = Math.min(d.length, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) payload += d[i] < 0 ? 10 : varint32Size(d[i]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      break;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const d = t.data as Uint8Array | Uint16Array | Uint32Array;
      for (let i = 0; i < d.length; ) {
        const stop = Math.min(d.length, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) payload += varint32Size(d[i]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      break;
    }
    case 'INT64':
    case 'UINT64': {
      const words = wordsOf(t.data as BigInt64Array | BigUint64Array);
      for (let i = 0; i < words.length; ) {
        const stop = Math.min(words.length, i + 2 * ELEMENTS_PER_STEP);
        for (; i < stop; i += 2) payload += varint64Size(words[i], words[i + 1]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      break;
    }
    case 'BYTES': {
      let size = 0;
      const o = (t.data as ByteStrings).offsets;
      for (let i = 0; i + 1 < o.length; ) {
        const stop = Math.min(o.length - 1, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) size += delimitedSize(o[i + 1] - o[i]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      plan.contentsSize = size;
      return;
    }
    default:
      // FP32 / FP64 / BOOL are measured by measureFixed; FP16 / BF16 never reach here: needsRawResponse sends them raw.
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

/** An output's fields up to its contents (written after, by writeContents). */
function writeHeader(w: ProtoWriter, plan: OutputPlan): void {
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
}

function* writeContents(w: ProtoWriter, plan: OutputPlan, s: WorkSlicer): SlicedWork<void> {
  const t = plan.tensor;
  const field = CONTENTS_FIELD[t.datatype];
  if (t.datatype === 'BYTES') {
    yield* writeByteStrings(w, t.data as ByteStrings, field, false, s);
    return;
  }
  w.tag(field, WT_BYTES);
  w.uint32(plan.payloadSize);
  const buf = w.buf;
  switch (t.datatype) {
    case 'FP32':
    case 'FP64': {
      const d = t.data as Float32Array | Float64Array;
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      if (bytes.byteLength <= COPY_CHUNK) w.raw(bytes);
      else yield* writeSliced(w, bytes, s);
      return;
    }
    case 'BOOL': {
      const d = t.data as Uint8Array;
      let p = w.pos;
      for (let i = 0; i < d.length; ) {
        const stop = Math.min(d.length, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) buf[p++] = d[i] === 0 ? 0 : 1;
        w.pos = p;
        if (s.due(ELEMENTS_PER_STEP >> 2)) yield;
      }
      return;
    }
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const d = t.data as Int8Array | Int16Array | Int32Array;
      for (let i = 0; i < d.length; ) {
        const stop = Math.min(d.length, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) {
          const v = d[i];
          if (v < 0) w.varint64(v >>> 0, 0xffffffff);
          else w.uint32(v);
        }
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      return;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const d = t.data as Uint8Array | Uint16Array | Uint32Array;
      for (let i = 0; i < d.length; ) {
        const stop = Math.min(d.length, i + ELEMENTS_PER_STEP);
        for (; i < stop; i++) w.uint32(d[i]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
      return;
    }
    default: {
      const words = wordsOf(t.data as BigInt64Array | BigUint64Array);
      for (let i = 0; i < words.length; ) {
        const stop = Math.min(words.length, i + 2 * ELEMENTS_PER_STEP);
        for (; i < stop; i += 2) w.varint64(words[i], words[i + 1]);
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
    }
  }
}

/**
 * Starts one raw_output_contents entry (its tag and length) and returns the tensor's little-endian bytes to write
 * after them; null for BYTES, whose elements are written length-prefixed in place (writeByteStrings).
 */
function startRawEntry(w: ProtoWriter, plan: OutputPlan): Uint8Array | null {
  const t = plan.tensor;
  w.tag(6, WT_BYTES);
  if (t.datatype === 'BYTES') {
    w.uint32(plan.rawSize);
    return null;
  }
  const raw = tensorToRaw(t);
  w.uint32(raw.byteLength);
  return raw;
}

/** Bytes written as they are, in chunks with slice checks between them (see copySliced). */
function* writeSliced(w: ProtoWriter, src: Uint8Array, s: WorkSlicer): SlicedWork<void> {
  yield* copySliced(src, w.buf, w.pos, s);
  w.pos += src.byteLength;
}

/** Writes a ByteStrings' elements from its one buffer: as `field` entries, or (raw) each after a 4-byte length. */
function* writeByteStrings(w: ProtoWriter, data: ByteStrings, field: number, raw: boolean, s: WorkSlicer): SlicedWork<void> {
  const o = data.offsets;
  const src = data.bytes;
  const out = w.buf;
  for (let i = 0; i + 1 < o.length; ) {
    const stop = Math.min(o.length - 1, i + ELEMENTS_PER_STEP);
    for (; i < stop; i++) {
      let a = o[i];
      const b = o[i + 1];
      if (raw) {
        writeLength32(w, b - a);
      } else {
        w.tag(field, WT_BYTES);
        w.uint32(b - a);
      }
      if (b - a < SHORT_COPY) {
        let p = w.pos;
        while (a < b) out[p++] = src[a++];
        w.pos = p;
      } else {
        yield* writeSliced(w, src.subarray(a, b), s);
      }
    }
    if (s.due(ELEMENTS_PER_STEP)) yield;
  }
}

function writeLength32(w: ProtoWriter, len: number): void {
  const buf = w.buf;
  const p = w.pos;
  buf[p] = len & 0xff;
  buf[p + 1] = (len >>> 8) & 0xff;
  buf[p + 2] = (len >>> 16) & 0xff;
  buf[p + 3] = (len >>> 24) & 0xff;
  w.pos = p + 4;
}

/** A 64-bit integer array as little-endian 32-bit halves (lo, hi, lo, hi...), sharing its memory. */
function wordsOf(d: BigInt64Array | BigUint64Array): Uint32Array {
  return new Uint32Array(d.buffer, d.byteOffset, d.length * 2);
}
