import { Buffer } from 'node:buffer';
import { clip } from '../errors/clip.util';
import { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import { elementSize, parseDatatype } from './datatype.util';
import { DeferredTensorData } from './deferred-tensor-data';
import { countElements, formatShape } from './element-count.util';
import { BytesSpanDecoder } from './json-bytes.decoder';
import { type NumericContainer, NumericSpanDecoder } from './json-numeric.decoder';
import { decodeRawBytesInSlices, isLargeRawBytes } from './raw-data.decoder';
import type { TensorBudget } from './tensor-budget';
import { runInSlices } from './time-slice.util';
import type { WireInferenceRequest } from './wire-tensor.interface';
import { clientError } from '../errors/codec.errors';
import type { CodecErrorFactory } from '../errors';

/** Bytes per element of the container a datatype decodes into (FP16 and BF16 are held widened, in a Float32Array). */
function decodedElementSize(dt: Datatype): number {
  return dt === 'FP16' || dt === 'BF16' ? 4 : elementSize(dt);
}

function allocate(dt: Datatype, n: number): NumericContainer {
  switch (dt) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(n);
    case 'INT8':
      return new Int8Array(n);
    case 'UINT16':
      return new Uint16Array(n);
    case 'INT16':
      return new Int16Array(n);
    case 'UINT32':
      return new Uint32Array(n);
    case 'INT32':
      return new Int32Array(n);
    case 'UINT64':
      return new BigUint64Array(n);
    case 'INT64':
      return new BigInt64Array(n);
    case 'FP64':
      return new Float64Array(n);
    default:
      return new Float32Array(n);
  }
}

/**
 * True when some input's `data` is still a {@link DeferredTensorData} (a large JSON body's tensor text), or some
 * input has large raw BYTES data (split in slices first: see {@link isLargeRawBytes}).
 *
 * @internal
 */
export function hasDeferredData(wire: WireInferenceRequest): boolean {
  const inputs = wire.inputs;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].data instanceof DeferredTensorData || isLargeRawBytes(inputs[i])) return true;
  return false;
}

/**
 * Replaces every {@link DeferredTensorData} in `wire.inputs[i].data` (left there by {@link parseJsonBody}) with the
 * typed container `decodeTensor` would have made of the same array: same datatype rules and the same 400s for bad
 * values, element count equal to the product of the shape. Each tensor's decoded size is taken from `budget` before
 * anything is allocated (elements × element size; BYTES: their bytes plus 4 per element, the BYTES measured first);
 * BYTES become one {@link ByteStrings}. Large raw BYTES data (binary extension, gRPC raw_input_contents) is split
 * into its elements the same way, in slices, with the checks, budget and 400s of `decodeTensor`, and stays the
 * same bytes (see {@link decodeRawBytesInSlices}). Call it after the request's structural check. Synchronous
 * (undefined) when nothing is deferred; otherwise a promise, the work done in slices that yield to the event loop.
 *
 * Inputs are taken in order; one whose name an earlier input has, or that also has binary data, is left for
 * `decodeTensor` to refuse. Messages name the tensor as `input '<name>'`, the name clipped.
 *
 * @internal
 */
export function decodeDeferredData(wire: WireInferenceRequest, budget: TensorBudget): void | Promise<void> {
  if (hasDeferredData(wire)) return decodeInputs(wire, budget);
}

async function decodeInputs(wire: WireInferenceRequest, budget: TensorBudget): Promise<void> {
  const seen = new Set<string>();
  for (const input of wire.inputs) {
    if (seen.has(input.name)) continue;
    seen.add(input.name);
    const data = input.data;
    if (isLargeRawBytes(input)) {
      const where = `input '${clip(input.name)}'`;
      const count = countElements(input.shape, where, clientError);
      input.raw = await decodeRawBytesInSlices(input.raw!, input.shape, count, where, clientError, budget);
      continue;
    }
    if (!(data instanceof DeferredTensorData) || (input.raw !== undefined && input.raw !== null)) continue;
    const where = `input '${clip(input.name)}'`;
    const dt = parseDatatype(input.datatype, where, clientError);
    const count = countElements(input.shape, where, clientError);
    input.data = await decodeJsonTensorData(data, dt, input.shape, count, where, budget, clientError);
  }
}

/**
 * The typed container of one deferred tensor-data array: `count` elements (the product of `shape`) of `dt`, its
 * size taken from `budget` first. See {@link decodeDeferredData}.
 *
 * @internal
 */
export async function decodeJsonTensorData(
  span: DeferredTensorData,
  dt: Datatype,
  shape: readonly number[],
  count: number,
  where: string,
  budget: TensorBudget,
  fail: CodecErrorFactory,
): Promise<TensorData> {
  if (span.elements !== count) throw fail(`${where}: shape ${formatShape(shape)} needs ${count} elements, got ${span.elements}`);
  if (dt === 'BYTES') return decodeBytes(span, count, where, budget, fail);
  budget.take(count * decodedElementSize(dt), where);
  const out = allocate(dt, count);
  await runInSlices(new NumericSpanDecoder(span.body, span.start, span.end, dt, out, where, fail));
  return out as TensorData;
}

async function decodeBytes(span: DeferredTensorData, count: number, where: string, budget: TensorBudget, fail: CodecErrorFactory): Promise<TensorData> {
  let total = span.stringBytes;
  if (span.strings !== count || !span.plainStrings) {
    // Escapes, non-ASCII text or elements that are not strings: measure first (refusing a bad element).
    const measure = new BytesSpanDecoder(span.body, span.start, span.end, null, null, where, fail);
    await runInSlices(measure);
    total = measure.total;
  }
  budget.take(total + 4 * count, where);
  const bytes = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(count + 1);
  await runInSlices(new BytesSpanDecoder(span.body, span.start, span.end, bytes, offsets, where, fail));
  return new ByteStrings(bytes, offsets) as unknown as TensorData;
}
