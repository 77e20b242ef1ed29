import { Buffer } from 'node:buffer';
import { Injectable } from '@nestjs/common';
import { ByteStrings } from '../../model/byte-strings';
import type { Datatype } from '../../model/datatype';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import { decodeRawData } from '../raw-data.decoder';
import { tensorToRaw } from '../raw-data.encoder';
import { TensorBudget } from '../tensor-budget';
import type { WireTensor } from '../wire-tensor.interface';
import type { ContentCodec, ContentTarget, DecodedContent } from './content-codec.interface';
import { NPY_DESCR, readNpyHeader, writeNpyHeader, type NpyHeader } from './npy-format.util';
import { rowsInput } from './rows.util';
import { clientError } from '../../errors/codec.errors';
import { invalidRequest, notAcceptable } from '../../errors';

const TYPE = 'application/x-npy';

/** Fixed-width elements read between two yields to the event loop: a larger array is read in slices. */
const SLICE_ELEMENTS = 1024 * 1024;

/** Lets the event loop run (health probes, other requests) between slices of a large array. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Fixed-width `|S<n>` elements, their trailing NUL padding removed, copied next to each other into one
 * {@link ByteStrings} in one pass, a slice of elements at a time. The caller takes the budget first (the bytes as
 * sent plus 4 per element: at least what is built).
 */
class FixedBytesReader {
  private readonly offsets: Uint32Array;
  private readonly bytes: Buffer;
  private i = 0;
  private q = 0;

  constructor(
    private readonly raw: Buffer,
    private readonly itemSize: number,
    private readonly count: number,
  ) {
    this.offsets = new Uint32Array(count + 1);
    this.bytes = Buffer.allocUnsafe(raw.length);
  }

  /** Reads up to `elements` more elements; true when all are read. */
  read(elements: number): boolean {
    const { raw, itemSize, bytes, offsets } = this;
    const stop = Math.min(this.count, this.i + elements);
    let q = this.q;
    let start = this.i * itemSize;
    for (let i = this.i; i < stop; i++, start += itemSize) {
      let end = start + itemSize;
      while (end > start && raw[end - 1] === 0) end--;
      if (end - start < 32) for (let k = start; k < end; k++) bytes[q++] = raw[k];
      else q += raw.copy(bytes, q, start, end);
      offsets[i + 1] = q;
    }
    this.i = stop;
    this.q = q;
    return stop === this.count;
  }

  get result(): ByteStrings {
    return new ByteStrings(this.bytes.subarray(0, this.q), this.offsets);
  }
}

/** Reads the remaining elements (the first slice is read), yielding to the event loop before each slice. */
async function readInSlices(reader: FixedBytesReader, request: DecodedContent): Promise<DecodedContent> {
  let done = false;
  while (!done) {
    await yieldToLoop();
    done = reader.read(SLICE_ELEMENTS);
  }
  request.request.inputs[0].data = reader.result;
  return request;
}

/** The number of elements of a shape the header reader has checked. */
function elementsOf(shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) count *= d;
  return count;
}

/** The array's numpy dtype as messages name it. */
function dtypeName(header: NpyHeader): string {
  return header.datatype === 'BYTES' ? `S${header.itemSize}` : NPY_DESCR[header.datatype].slice(1);
}

/**
 * `application/x-npy`: one numpy array (`np.save` format, versions 1-3, C order, little-endian bool, integer,
 * float16/32/64 or fixed bytes `S<n>`) in, the response's first output out.
 *
 * - Reading: the array fills the model's one input with its own shape. When the model declares the input's
 *   datatype and the array has another (numpy's default float64 for an FP32 model), values are converted with the
 *   usual range checks; otherwise the bytes are used as they are, without a copy. Fixed bytes become one
 *   `ByteStrings` (read in slices, with the event loop free in between, beyond 1M elements: decode then returns a
 *   Promise); fixed bytes for a numeric input, or numbers for a BYTES input, are a 400 before anything is built.
 * - Writing: an .npy file of the first output (BF16 as float32, BYTES as `S<longest>`). An .npy file holds one
 *   array: a model with several outputs answers its first one here; ask for JSON to get them all.
 *
 * @publicApi
 */
@Injectable()
export class NpyContentCodec implements ContentCodec {
  readonly mediaTypes: readonly string[] = [TYPE];

  decode(body: Buffer, target: ContentTarget): DecodedContent | Promise<DecodedContent> {
    const header = readNpyHeader(body);
    const input = rowsInput(target, TYPE);
    const datatype: Datatype = input.declared ? input.datatype : header.datatype;
    if ((header.datatype === 'BYTES') !== (datatype === 'BYTES')) {
      // Checked before anything is built: fixed bytes cannot become numbers, nor numbers bytes.
      throw invalidRequest(
        `the application/x-npy array has dtype '${dtypeName(header)}', but input '${input.name}' of model '${target.model}' is ${datatype}; ` +
          (datatype === 'BYTES' ? 'send a bytes array (dtype S)' : 'send a numeric or boolean array'),
      );
    }
    const where = `input '${input.name}'`;
    const budget = new TensorBudget(target.maxTensorBytes);
    const raw = body.subarray(header.dataOffset);
    const shape = header.shape;
    const count = elementsOf(shape);
    const tensor: WireTensor = { name: input.name, datatype, shape };
    const decoded: DecodedContent = { request: { inputs: [tensor] }, format: 'rows' };
    if (header.datatype === 'BYTES') {
      budget.take(raw.length + 4 * count, where);
      const reader = new FixedBytesReader(raw, header.itemSize, count);
      if (!reader.read(SLICE_ELEMENTS)) return readInSlices(reader, decoded);
      tensor.data = reader.result;
    } else if (datatype === header.datatype) tensor.raw = raw;
    else tensor.data = decodeRawData(raw, header.datatype, shape, count, where, clientError, budget);
    return decoded;
  }

  encode(response: InferenceResponse): Buffer {
    const t = response.outputs[0];
    if (t === undefined) throw notAcceptable('the response has no outputs to write as application/x-npy');
    if (t.datatype === 'BYTES') return bytesArray(t);
    const descr = NPY_DESCR[t.datatype];
    const data = t.datatype === 'BF16' ? float32Bytes(t.data as Float32Array) : tensorToRaw(t);
    return Buffer.concat([writeNpyHeader(descr, t.shape), data]);
  }
}

function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function bytesArray(t: Tensor): Buffer {
  const elements = t.data as ByteStrings;
  const n = elements.length;
  let itemSize = 1;
  for (let i = 0; i < n; i++) if (elements.sizeOf(i) > itemSize) itemSize = elements.sizeOf(i);
  const header = writeNpyHeader(`|S${itemSize}`, t.shape);
  const out = Buffer.alloc(header.length + n * itemSize);
  header.copy(out, 0);
  const o = elements.offsets;
  for (let i = 0; i < n; i++) elements.bytes.copy(out, header.length + i * itemSize, o[i], o[i + 1]);
  return out;
}
