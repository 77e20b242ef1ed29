import { elementCount, normalizeDatatype } from '../../../codecs';
import type { WireInferenceRequest, WireTensor } from '../../../codecs/wire-tensor.interface';
import { invalidRequest } from '../../../errors/errors';
import type { Parameters, RequestedOutput } from '../../../model/tensor.interface';
import { readParameterEntry } from './infer-parameter.codec';
import { int64ToNumber, ProtoReader, WT_BYTES, WT_VARINT } from './proto-wire.util';
import { contentsFieldName, decodeContents, emptyContainer } from './tensor-contents.decoder';

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

/** One input as read, before its data is attached. */
interface InputDraft {
  tensor: WireTensor;
  /** `[start, end, ...]` of its InferTensorContents message(s). */
  contents: number[];
}

/**
 * Converts the bytes of a ModelInferRequest into the data plane's {@link WireInferenceRequest}, without an
 * intermediate object per element: typed `contents` become the datatype's typed array (64-bit integers exact),
 * `raw_input_contents[i]` becomes input i's `raw` bytes (a view, no copy); parameters of every kind are kept.
 * Protocol-level mistakes are INVALID_ARGUMENT errors that say what to fix: no model name, no inputs, raw and
 * typed contents mixed, a raw_input_contents count that does not match the inputs, values in the wrong contents
 * field, no data. Counts, sizes and value ranges are the codecs' to check, as on REST.
 *
 * @internal
 */
export function decodeInferRequest(buf: Buffer): DecodedInferRequest {
  const r = new ProtoReader(buf, 0, buf.length, MESSAGE);
  let modelName = '';
  let modelVersion = '';
  let id = '';
  let parameters: Parameters | undefined;
  const inputs: InputDraft[] = [];
  let outputs: RequestedOutput[] | undefined;
  const raw: Buffer[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field <= 7 && wt !== WT_BYTES) throw r.wrongType(field, wt);
    switch (field) {
      case 1:
        modelName = r.string();
        break;
      case 2:
        modelVersion = r.string();
        break;
      case 3:
        id = r.string();
        break;
      case 4:
        readParameterEntry(r, r.delimited(), (parameters ??= {}));
        break;
      case 5:
        inputs.push(readInput(r, r.delimited()));
        break;
      case 6:
        (outputs ??= []).push(readOutput(r, r.delimited()));
        break;
      case 7:
        raw.push(r.bytes());
        break;
      default:
        r.skip(wt);
    }
  }
  if (modelName === '') throw invalidRequest('model_name is empty; name the model to run');
  if (inputs.length === 0) throw invalidRequest('the request has no inputs; send at least one tensor in inputs');
  const wire: WireInferenceRequest = { inputs: new Array<WireTensor>(inputs.length) };
  if (raw.length > 0) attachRaw(inputs, raw, wire);
  else attachContents(r, inputs, wire);
  if (id !== '') wire.id = id;
  if (parameters !== undefined) wire.parameters = parameters;
  if (outputs !== undefined) wire.outputs = outputs;
  return { modelName, modelVersion: modelVersion === '' ? undefined : modelVersion, wire, raw: raw.length > 0 };
}

function readInput(r: ProtoReader, end: number): InputDraft {
  const tensor: WireTensor = { name: '', datatype: '', shape: [] };
  const contents: number[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== WT_BYTES) throw r.wrongType(field, wt);
        tensor.name = r.string();
        break;
      case 2:
        if (wt !== WT_BYTES) throw r.wrongType(field, wt);
        tensor.datatype = r.string();
        break;
      case 3:
        readShape(r, wt, tensor.shape);
        break;
      case 4:
        if (wt !== WT_BYTES) throw r.wrongType(field, wt);
        readParameterEntry(r, r.delimited(), (tensor.parameters ??= {}));
        break;
      case 5: {
        if (wt !== WT_BYTES) throw r.wrongType(field, wt);
        const stop = r.delimited();
        contents.push(r.pos, stop);
        r.pos = stop;
        break;
      }
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw r.fail('an input runs past its end');
  if (tensor.name === '') throw invalidRequest('an input has no name; every tensor in inputs needs one');
  return { tensor, contents };
}

/** Reads `repeated int64 shape`, packed or not, as numbers (the codec rejects negative or huge dimensions). */
function readShape(r: ProtoReader, wt: number, shape: number[]): void {
  if (wt === WT_VARINT) {
    r.varint();
    shape.push(int64ToNumber(r.lo, r.hi));
    return;
  }
  if (wt !== WT_BYTES) throw r.wrongType(3, wt);
  const end = r.delimited();
  while (r.pos < end) {
    r.varint();
    shape.push(int64ToNumber(r.lo, r.hi));
  }
  if (r.pos !== end) throw r.fail('a packed shape ends inside a varint');
}

function readOutput(r: ProtoReader, end: number): RequestedOutput {
  const out: RequestedOutput = { name: '' };
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if ((field === 1 || field === 2) && wt !== WT_BYTES) throw r.wrongType(field, wt);
    if (field === 1) out.name = r.string();
    else if (field === 2) readParameterEntry(r, r.delimited(), (out.parameters ??= {}));
    else r.skip(wt);
  }
  if (r.pos !== end) throw r.fail('a requested output runs past its end');
  if (out.name === '') throw invalidRequest('a requested output has no name; name each tensor in outputs');
  return out;
}

/** raw_input_contents: one entry per input, in input order, and no typed contents anywhere. */
function attachRaw(inputs: readonly InputDraft[], raw: readonly Buffer[], wire: WireInferenceRequest): void {
  if (raw.length !== inputs.length) {
    throw invalidRequest(
      `raw_input_contents has ${raw.length} entries but the request has ${inputs.length} inputs; send one entry per input, in input order`,
    );
  }
  for (let i = 0; i < inputs.length; i++) {
    const { tensor, contents } = inputs[i];
    if (contents.length > 0 && hasBytes(contents)) {
      throw invalidRequest(
        `input '${tensor.name}': has both contents and raw_input_contents; send every input's values one way (raw_input_contents for all, or contents for all)`,
      );
    }
    tensor.raw = raw[i];
    wire.inputs[i] = tensor;
  }
}

function hasBytes(ranges: readonly number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i + 1] > ranges[i]) return true;
  return false;
}

function attachContents(r: ProtoReader, inputs: readonly InputDraft[], wire: WireInferenceRequest): void {
  for (let i = 0; i < inputs.length; i++) {
    const { tensor, contents } = inputs[i];
    wire.inputs[i] = tensor;
    const where = `input '${tensor.name}'`;
    const dt = normalizeDatatype(tensor.datatype);
    if (dt === undefined) {
      tensor.data = []; // the codec names the unknown datatype
      continue;
    }
    const data = contents.length === 0 ? undefined : decodeContents(r, contents, dt, where);
    if (data !== undefined) {
      tensor.data = data;
      continue;
    }
    if (hasElements(tensor.shape)) {
      throw invalidRequest(
        `${where}: has no data; send its values in ${contentsFieldName(dt)}` +
          (dt === 'FP16' || dt === 'BF16' ? '' : ', or every input\'s bytes in raw_input_contents'),
      );
    }
    tensor.data = emptyContainer(dt);
  }
}

/** True when a well-formed shape holds at least one element (a malformed one is left to the codec). */
function hasElements(shape: readonly number[]): boolean {
  try {
    return elementCount(shape, '') > 0;
  } catch {
    return false;
  }
}
