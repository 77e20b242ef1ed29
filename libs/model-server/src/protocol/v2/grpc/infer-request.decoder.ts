import { Buffer } from 'node:buffer';
import { elementCount, elementSize, normalizeDatatype } from '../../../codecs';
import { formatShape } from '../../../codecs/element-count.util';
import { TensorBudget } from '../../../codecs/tensor-budget';
import type { WireInferenceRequest, WireTensor } from '../../../codecs/wire-tensor.interface';
import { clip } from '../../../errors/clip.util';
import { checkRequestLimits, type RequestLimits } from '../../../inference/request-limits';
import type { Parameters, RequestedOutput } from '../../../model/tensor.interface';
import { readParameterEntry } from './infer-parameter.codec';
import { int64ToNumber, ProtoReader, WT_BYTES, WT_VARINT } from './proto-wire.util';
import { contentsFieldName, decodeContents, emptyContainer } from './tensor-contents.decoder';
import { runSliced, WorkSlicer, type CancellableCall, type SlicedWork } from './work-slicer.util';
import { invalidRequest, limitExceeded } from '../../../errors';

/**
 * A ModelInferRequest converted to the data plane's types.
 *
 * @internal
 */
export interface DecodedInferRequest {
  modelName: string;
  /** `undefined` when the request names no version (the default version serves it). */
  modelVersion: string | undefined;
  wire: WireInferenceRequest;
  /** True when the tensors came as raw_input_contents (the response then goes back raw as well). */
  raw: boolean;
}

const MESSAGE = 'ModelInferRequest';

/** Most dimensions a shape may have: far beyond any real rank, and a bound on what one input's shape holds. */
export const MAX_SHAPE_DIMENSIONS = 1024;

/** One input as read, before its data is attached. */
interface InputDraft {
  tensor: WireTensor;
  /** Where the input's message lies in the buffer (its contents are read from there later). */
  start: number;
  end: number;
  /** True when a contents message with bytes in it came with the input. */
  hasContents: boolean;
}

/** A field read as the last occurrence's position (proto3: the last one wins), decoded once at the end. */
class Span {
  start = 0;
  end = 0;

  read(r: ProtoReader): void {
    this.end = r.delimited();
    this.start = r.pos;
    r.pos = this.end;
  }

  text(r: ProtoReader): string {
    return this.end > this.start ? r.buf.toString('utf8', this.start, this.end) : '';
  }
}

/**
 * Converts the bytes of a ModelInferRequest into the data plane's {@link WireInferenceRequest}, without an
 * intermediate object per element: typed `contents` become the datatype's typed array (64-bit integers exact)
 * or one `ByteStrings` for BYTES, `raw_input_contents[i]` becomes input i's `raw` bytes (a view, no copy);
 * parameters of every kind are kept.
 *
 * Work and memory are bounded before tensor data is touched: the structure is read first, keeping no more
 * inputs, outputs, raw entries or parameter keys than `limits` allow (the rest are counted and skipped), and
 * {@link checkRequestLimits} refuses the request (INVALID_ARGUMENT naming the setting) before any contents
 * are decoded; each contents container takes its size from a {@link TensorBudget} of `maxTensorBytes` before
 * it is allocated. Large messages are decoded in slices with the event loop running in between ; the result is synchronous when the
 * message fits in one slice. Once `call` is cancelled, decoding stops between two slices (CANCELLED).
 *
 * Protocol-level mistakes are INVALID_ARGUMENT errors that say what to fix: no model name, no inputs, raw and
 * typed contents mixed, a raw_input_contents count that does not match the inputs, values in the wrong contents
 * field, no data. Counts, sizes and value ranges are the codecs' to check, as on REST.
 *
 * `addressed` learns the model the request names as soon as the message's structure is read, before any of the
 * checks above that may still refuse it (so the refusal can be the model's monitoring event).
 *
 * @internal
 */
export function decodeInferRequest(
  buf: Buffer,
  limits: RequestLimits,
  call?: CancellableCall,
  addressed?: (modelName: string, modelVersion: string | undefined) => void,
): DecodedInferRequest | Promise<DecodedInferRequest> {
  const slicer = new WorkSlicer();
  return runSliced(decodeSteps(buf, limits, slicer, addressed), slicer, call);
}

function* decodeSteps(
  buf: Buffer,
  limits: RequestLimits,
  s: WorkSlicer,
  addressed: ((modelName: string, modelVersion: string | undefined) => void) | undefined,
): SlicedWork<DecodedInferRequest> {
  const r = new ProtoReader(buf, 0, buf.length, MESSAGE);
  const name = new Span();
  const version = new Span();
  const id = new Span();
  let parameters: Parameters | undefined;
  let parameterKeys = 0;
  const inputs: InputDraft[] = [];
  let inputCount = 0;
  let outputs: RequestedOutput[] | undefined;
  let outputCount = 0;
  const raw: Buffer[] = [];
  let rawCount = 0;
  const maxParameters = limits.maxParameters;
  while (r.pos < r.end) {
    if (s.due()) yield;
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field <= 7 && wt !== WT_BYTES) throw r.wrongType(field, wt);
    switch (field) {
      case 1:
        name.read(r);
        break;
      case 2:
        version.read(r);
        break;
      case 3:
        id.read(r);
        break;
      case 4:
        // Keys past the limit are not kept: one more than it is enough for checkRequestLimits to refuse.
        if (parameterKeys > maxParameters) r.skip(wt);
        else if (yield* readParameterEntry(r, r.delimited(), (parameters ??= {}), s)) parameterKeys++;
        break;
      case 5:
        if (++inputCount > limits.maxInputs) r.skip(wt);
        else inputs.push(yield* readInput(r, r.delimited(), maxParameters, s));
        break;
      case 6:
        if (++outputCount > limits.maxOutputs) r.skip(wt);
        else (outputs ??= []).push(yield* readOutput(r, r.delimited(), maxParameters, s));
        break;
      case 7:
        if (++rawCount > limits.maxInputs) r.skip(wt);
        else raw.push(r.bytes());
        break;
      default:
        r.skip(wt);
    }
  }
  const modelName = name.text(r);
  if (modelName === '') throw invalidRequest('model_name is empty; name the model to run');
  const modelVersion = version.end > version.start ? version.text(r) : undefined;
  if (addressed !== undefined) addressed(modelName, modelVersion);
  if (inputCount === 0) throw invalidRequest('the request has no inputs; send at least one tensor in inputs');
  if (inputCount > limits.maxInputs) throw limitExceeded(`${inputCount} inputs`, limits.maxInputs, 'maxInputs');
  if (outputCount > limits.maxOutputs) throw limitExceeded(`${outputCount} requested outputs`, limits.maxOutputs, 'maxOutputs');
  const wire: WireInferenceRequest = { inputs: new Array<WireTensor>(inputs.length) };
  for (let i = 0; i < inputs.length; i++) wire.inputs[i] = inputs[i].tensor;
  if (id.end > id.start) wire.id = id.text(r);
  if (parameters !== undefined) wire.parameters = parameters;
  if (outputs !== undefined) wire.outputs = outputs;
  checkRequestLimits(wire, limits);
  if (rawCount > 0) {
    attachRaw(inputs, raw, rawCount);
  } else {
    const budget = new TensorBudget(limits.maxTensorBytes);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      const data = input.hasContents ? yield* decodeInputContents(r, input, budget, s) : undefined;
      attachContents(input.tensor, data);
    }
  }
  return { modelName, modelVersion, wire, raw: rawCount > 0 };
}

function* readInput(r: ProtoReader, end: number, maxParameters: number, s: WorkSlicer): SlicedWork<InputDraft> {
  const tensor: WireTensor = { name: '', datatype: '', shape: [] };
  const draft: InputDraft = { tensor, start: r.pos, end, hasContents: false };
  const name = new Span();
  const datatype = new Span();
  let parameterKeys = 0;
  while (r.pos < end) {
    if (s.due()) yield;
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field !== 3 && field <= 5 && wt !== WT_BYTES) throw r.wrongType(field, wt);
    switch (field) {
      case 1:
        name.read(r);
        break;
      case 2:
        datatype.read(r);
        break;
      case 3:
        readShape(r, wt, tensor.shape);
        break;
      case 4:
        if (parameterKeys > maxParameters) r.skip(wt);
        else if (yield* readParameterEntry(r, r.delimited(), (tensor.parameters ??= {}), s)) parameterKeys++;
        break;
      case 5: {
        const stop = r.delimited();
        if (stop > r.pos) draft.hasContents = true;
        r.pos = stop;
        break;
      }
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw r.fail('an input runs past its end');
  tensor.name = name.text(r);
  if (tensor.name === '') throw invalidRequest('an input has no name; every tensor in inputs needs one');
  tensor.datatype = datatype.text(r);
  return draft;
}

/**
 * Reads `repeated int64 shape`, packed or not, as numbers (the codec rejects negative or huge dimensions).
 * At most {@link MAX_SHAPE_DIMENSIONS} are read, so it needs no slicing.
 */
function readShape(r: ProtoReader, wt: number, shape: number[]): void {
  if (wt === WT_VARINT) {
    r.varint();
    addDimension(shape, int64ToNumber(r.lo, r.hi));
    return;
  }
  if (wt !== WT_BYTES) throw r.wrongType(3, wt);
  const end = r.delimited();
  while (r.pos < end) {
    r.varint();
    addDimension(shape, int64ToNumber(r.lo, r.hi));
  }
  if (r.pos !== end) throw r.fail('a packed shape ends inside a varint');
}

function addDimension(shape: number[], d: number): void {
  if (shape.length === MAX_SHAPE_DIMENSIONS) {
    throw invalidRequest(`an input's shape has more than ${MAX_SHAPE_DIMENSIONS} dimensions, the most a shape may have`);
  }
  shape.push(d);
}

function* readOutput(r: ProtoReader, end: number, maxParameters: number, s: WorkSlicer): SlicedWork<RequestedOutput> {
  const out: RequestedOutput = { name: '' };
  const name = new Span();
  let parameterKeys = 0;
  while (r.pos < end) {
    if (s.due()) yield;
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if ((field === 1 || field === 2) && wt !== WT_BYTES) throw r.wrongType(field, wt);
    if (field === 1) name.read(r);
    else if (field !== 2) r.skip(wt);
    else if (parameterKeys > maxParameters) r.skip(wt);
    else if (yield* readParameterEntry(r, r.delimited(), (out.parameters ??= {}), s)) parameterKeys++;
  }
  if (r.pos !== end) throw r.fail('a requested output runs past its end');
  out.name = name.text(r);
  if (out.name === '') throw invalidRequest('a requested output has no name; name each tensor in outputs');
  return out;
}

/** raw_input_contents: one entry per input, in input order, and no typed contents anywhere. */
function attachRaw(inputs: readonly InputDraft[], raw: readonly Buffer[], rawCount: number): void {
  if (rawCount !== inputs.length) {
    throw invalidRequest(
      `raw_input_contents has ${rawCount} entries but the request has ${inputs.length} inputs; send one entry per input, in input order`,
    );
  }
  for (let i = 0; i < inputs.length; i++) {
    const { tensor, hasContents } = inputs[i];
    if (hasContents) {
      throw invalidRequest(
        `${where(tensor)}: has both contents and raw_input_contents; send every input's values one way (raw_input_contents for all, or contents for all)`,
      );
    }
    const dt = normalizeDatatype(tensor.datatype);
    if (dt === 'BYTES') checkRawBytesCount(tensor, raw[i]);
    tensor.raw = dt === undefined || dt === 'BYTES' ? raw[i] : aligned(raw[i], elementSize(dt));
  }
}

/** Raw entries up to this size that lie at an offset their element size does not divide are copied here. */
const SMALL_RAW = 4096;

/**
 * A small raw entry at an offset its elements cannot be viewed from, copied to memory that can (Buffer's
 * pool hands out 8-byte aligned slices): the codec then views it in place, where it would otherwise make a
 * copy of its own in a fresh ArrayBuffer per tensor, which costs more than the copy. Larger entries are left
 * to the codec, which aligns them in slices.
 */
function aligned(raw: Buffer, size: number): Buffer {
  if (size === 1 || raw.byteOffset % size === 0 || raw.length > SMALL_RAW) return raw;
  const copy = Buffer.allocUnsafe(raw.length);
  copy.set(raw);
  return copy;
}

/**
 * Every BYTES element takes at least its 4-byte length in raw_input_contents, so a shape asking for more
 * elements than a quarter of the bytes cannot match: refused before anything is sized from the shape.
 */
function checkRawBytesCount(tensor: WireTensor, raw: Buffer): void {
  const count = safeElementCount(tensor.shape);
  if (count > raw.length / 4) {
    throw invalidRequest(
      `${where(tensor)}: shape ${clip(formatShape(tensor.shape))} needs ${count} BYTES elements, but raw_input_contents holds ${raw.length} bytes ` +
        '(each element takes a 4-byte length and its bytes)',
    );
  }
}

/** An input's typed contents, as the data plane takes them (undefined: none, or an unknown datatype). */
function* decodeInputContents(r: ProtoReader, input: InputDraft, budget: TensorBudget, s: WorkSlicer): SlicedWork<unknown> {
  const dt = normalizeDatatype(input.tensor.datatype);
  if (dt === undefined) return undefined;
  return yield* decodeContents(r, input.start, input.end, dt, where(input.tensor), budget, s);
}

/** Gives an input its contents' data, or says that it has none (an empty shape: an empty container). */
function attachContents(tensor: WireTensor, data: unknown): void {
  const dt = normalizeDatatype(tensor.datatype);
  if (dt === undefined) {
    tensor.data = []; // the codec names the unknown datatype
    return;
  }
  if (data !== undefined) {
    tensor.data = data;
    return;
  }
  if (safeElementCount(tensor.shape) > 0) {
    throw invalidRequest(
      `${where(tensor)}: has no data; send its values in ${contentsFieldName(dt)}` +
        (dt === 'FP16' || dt === 'BF16' ? '' : ", or every input's bytes in raw_input_contents"),
    );
  }
  tensor.data = emptyContainer(dt);
}

/** How messages name an input (its name clipped). */
function where(tensor: WireTensor): string {
  return `input '${clip(tensor.name)}'`;
}

/** The element count of a well-formed shape; 0 for a malformed one (the codec names the problem). */
function safeElementCount(shape: readonly number[]): number {
  try {
    return elementCount(shape, '');
  } catch {
    return 0;
  }
}
