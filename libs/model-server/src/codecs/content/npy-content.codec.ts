import { Injectable } from '@nestjs/common';
import { invalidRequest } from '../../errors/errors';
import { ByteStrings } from '../../model/byte-strings';
import type { Datatype } from '../../model/datatype';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import { clientError } from '../codec-error.util';
import { decodeRawData } from '../raw-data.decoder';
import { tensorToRaw } from '../raw-data.encoder';
import { TensorBudget } from '../tensor-budget';
import type { WireTensor } from '../wire-tensor.interface';
import type { ContentCodec, ContentTarget, DecodedContent } from './content-codec.interface';
import { notAcceptable } from './content-error.util';
import { NPY_DESCR, readNpyHeader, writeNpyHeader, type NpyHeader } from './npy-format.util';
import { rowsInput } from './rows.util';

const TYPE = 'application/x-npy';

/** The end of fixed-width element `i` once its trailing NUL padding is cut off. */
function trimmedEnd(raw: Uint8Array, start: number, itemSize: number): number {
  let end = start + itemSize;
  while (end > start && raw[end - 1] === 0) end--;
  return end;
}

/**
 * Fixed-width `|S<n>` elements, their trailing NUL padding removed, as one {@link ByteStrings}. The budget is
 * taken first (the bytes as sent plus 4 per element: at least what is built), then a pass sums the trimmed
 * sizes and a second copies the elements next to each other.
 */
function fixedBytes(raw: Buffer, itemSize: number, count: number, budget: TensorBudget, where: string): ByteStrings {
  budget.take(raw.length + 4 * count, where);
  let total = 0;
  for (let i = 0, start = 0; i < count; i++, start += itemSize) total += trimmedEnd(raw, start, itemSize) - start;
  const offsets = new Uint32Array(count + 1);
  const bytes = Buffer.allocUnsafe(total);
  let q = 0;
  for (let i = 0, start = 0; i < count; i++, start += itemSize) {
    const end = trimmedEnd(raw, start, itemSize);
    if (end - start < 32) for (let k = start; k < end; k++) bytes[q++] = raw[k];
    else q += raw.copy(bytes, q, start, end);
    offsets[i + 1] = q;
  }
  return new ByteStrings(bytes, offsets);
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
 *   usual range checks; otherwise the bytes are used as they are, without a copy.
 * - Writing: an .npy file of the first output (BF16 as float32, BYTES as `S<longest>`). An .npy file holds one
 *   array: a model with several outputs answers its first one here; ask for JSON to get them all.
 *
 * @publicApi
 */
@Injectable()
export class NpyContentCodec implements ContentCodec {
  readonly mediaTypes: readonly string[] = [TYPE];

  decode(body: Buffer, target: ContentTarget): DecodedContent {
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
    if (header.datatype === 'BYTES') tensor.data = fixedBytes(raw, header.itemSize, count, budget, where);
    else if (datatype === header.datatype) tensor.raw = raw;
    else tensor.data = decodeRawData(raw, header.datatype, shape, count, where, clientError, budget);
    return { request: { inputs: [tensor] }, format: 'rows' };
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
