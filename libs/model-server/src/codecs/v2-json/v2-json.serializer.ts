import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { ByteStrings } from '../../model/byte-strings';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import { checkJsonWritable, joinNumbers, jsonElementsRoom, writeJsonData, writeJsonElements, writeJsonElementsInto } from '../json-data.writer';
import { stringifyJson } from '../lossless-json';
import { tensorToRaw } from '../raw-data.encoder';
import { runInSlices, type SlicedWork } from '../time-slice.util';

/**
 * Texts written for monitoring records just before the transport answers (see {@link serializeAndKeep}): the
 * last few responses and their texts, matched by identity. A monitoring event is emitted as the request
 * completes, a few microtasks before its transport writes the answer, so a short ring finds it; a miss only
 * means writing the text again. Response objects are made fresh for each request and never changed once
 * encoded, so a kept text stays true. (A ring costs far less than a WeakMap, whose entries the garbage
 * collector has to trace on every scavenge.)
 */
const KEPT = 16;
const keptResponses: (InferenceResponse | null)[] = new Array<InferenceResponse | null>(KEPT).fill(null);
const keptTexts: string[] = new Array<string>(KEPT).fill('');
let keptNext = 0;
/** Texts in the ring not taken yet (a lookup is skipped while there are none). */
let kept = 0;

/**
 * {@link serializeInferenceResponse}, keeping the text so that the transport's own call for the same response
 * object returns it without writing the tensors again (a monitoring record's `resp` is then byte for byte what
 * the client gets). Throws as the serializer does (values JSON cannot carry).
 *
 * @internal
 */
export function serializeAndKeep(response: InferenceResponse): string {
  const text = writeResponse(response, null);
  if (keptResponses[keptNext] === null) kept++;
  keptResponses[keptNext] = response;
  keptTexts[keptNext] = text;
  keptNext = (keptNext + 1) % KEPT;
  return text;
}

/** The kept text of `response`, given once (the slot is freed), or undefined. */
function takeKept(response: InferenceResponse): string | undefined {
  for (let i = 0; i < KEPT; i++) {
    if (keptResponses[i] !== response) continue;
    keptResponses[i] = null;
    kept--;
    const text = keptTexts[i];
    keptTexts[i] = '';
    return text;
  }
  return undefined;
}

/** Collects the outputs that travel as binary (the binary tensor extension). @internal */
export interface BinaryOutputs {
  /** Whether the output named `name` goes as binary. */
  isBinary(name: string): boolean;
  /** The binary outputs' bytes, in output order, appended as they are written. */
  readonly chunks: Uint8Array[];
}

/**
 * Writes a v2 inference response as JSON text: fields in protocol order, optional fields left out,
 * tensor data written by the codecs (64-bit integers exact, floats shortest round-trip). Outputs that
 * `binary` selects get `parameters.binary_data_size` instead of `data`, their bytes collected in it.
 *
 * @internal
 */
export function serializeInferenceResponse(response: InferenceResponse, binary: BinaryOutputs | null = null): string {
  if (binary === null && kept > 0) {
    const written = takeKept(response);
    if (written !== undefined) return written;
  }
  return writeResponse(response, binary);
}

function writeResponse(response: InferenceResponse, binary: BinaryOutputs | null): string {
  let text = responseHead(response);
  const outputs = response.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const t = outputs[i];
    if (i > 0) text += ',';
    text += tensorHead(t);
    if (binary !== null && binary.isBinary(t.name)) {
      text += binaryTail(t, binary);
      continue;
    }
    if (t.parameters !== undefined) text += ',"parameters":' + stringifyJson(t.parameters);
    text += ',"data":' + writeJsonData(t, `output '${t.name}'`) + '}';
  }
  return text + ']}';
}

/** The response's fields before its outputs, up to `"outputs":[`. */
function responseHead(response: InferenceResponse): string {
  let text = '{"model_name":' + JSON.stringify(response.model_name);
  if (response.model_version !== undefined) text += ',"model_version":' + JSON.stringify(response.model_version);
  text += ',"id":' + JSON.stringify(response.id);
  if (response.parameters !== undefined) text += ',"parameters":' + stringifyJson(response.parameters);
  return text + ',"outputs":[';
}

/** An output's name, datatype and shape: `{"name":...,"shape":[...]`. */
function tensorHead(t: Tensor): string {
  return '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + joinNumbers(t.shape) + ']';
}

/** A binary output: its bytes go to `binary`, its JSON says their size. */
function binaryTail(t: Tensor, binary: BinaryOutputs): string {
  const raw = tensorToRaw(t);
  binary.chunks.push(raw);
  return ',"parameters":' + stringifyJson({ ...t.parameters, binary_data_size: raw.byteLength }) + '}';
}

/**
 * Responses with at least this many elements (all outputs together; BYTES: or this many bytes) are large: written by
 * {@link serializeInferenceResponseChunks}, a slice at a time. Writing this many FP32 values as JSON takes a few
 * milliseconds.
 *
 * @internal
 */
export const LARGE_RESPONSE_ELEMENTS = 65536;

/**
 * True when a response is large enough to be written in slices ({@link serializeInferenceResponseChunks}) rather than
 * at once ({@link serializeInferenceResponse}): its outputs hold {@link LARGE_RESPONSE_ELEMENTS} elements or more
 * (BYTES counted by their bytes when they are a `ByteStrings`). Costs a look at each output's length.
 *
 * @internal
 */
export function isLargeResponse(response: InferenceResponse): boolean {
  const outputs = response.outputs;
  let total = 0;
  for (let i = 0; i < outputs.length; i++) {
    const data: unknown = outputs[i].data;
    if (data instanceof ByteStrings) total += data.length + data.byteLength;
    else total += (data as ArrayLike<unknown>).length;
    if (total >= LARGE_RESPONSE_ELEMENTS) return true;
  }
  return false;
}

/**
 * Elements written between looks at the slice's deadline (a look costs one `performance.now()`), and the bytes
 * gathered before they become a chunk. 8192 elements overran the deadline by up to 7 ms on a busy machine (the
 * collector's steps run inside a piece); 2048 keep a piece well under a millisecond.
 */
const ELEMENTS_PER_PIECE = 2048;
const CHUNK_BYTES = 1 << 20;

/**
 * Writes a response in slices, as {@link serializeInferenceResponse} would write it, into chunks of UTF-8 (about 1 MiB
 * each). Their concatenation is the JSON text; the binary outputs' bytes are collected in `binary` as the synchronous
 * writer does. Between slices the event loop is served, so a response of millions of elements never holds it for
 * more than a few milliseconds at a time. Float outputs are written as bytes straight into the chunk (no text to
 * convert); the rest as text. Errors (NaN in an output, data outside its container) reject the promise.
 */
class ResponseChunkWriter implements SlicedWork {
  readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private at = 0;
  private output = 0;
  /** The next element of the current output to write, or -1 before its head. */
  private element = -1;

  constructor(
    private readonly response: InferenceResponse,
    private readonly binary: BinaryOutputs | null,
  ) {
    this.write(responseHead(response));
  }

  step(deadline: number): boolean {
    const outputs = this.response.outputs;
    while (this.output < outputs.length) {
      const t = outputs[this.output];
      const where = `output '${t.name}'`;
      if (this.element < 0) {
        let head = (this.output > 0 ? ',' : '') + tensorHead(t);
        if (this.binary !== null && this.binary.isBinary(t.name)) {
          this.write(head + binaryTail(t, this.binary));
          this.output++;
          continue;
        }
        checkJsonWritable(t, where);
        if (t.parameters !== undefined) head += ',"parameters":' + stringifyJson(t.parameters);
        this.write(head + ',"data":[');
        this.element = 0;
      }
      const n = t.data.length;
      while (this.element < n) {
        const end = Math.min(n, this.element + ELEMENTS_PER_PIECE);
        this.elements(t, end, where);
        this.element = end;
        if (performance.now() > deadline) return false;
      }
      this.write(']}');
      this.output++;
      this.element = -1;
    }
    this.write(']}');
    if (this.at > 0) this.chunks.push(this.chunk.subarray(0, this.at));
    return true;
  }

  /** The current output's elements up to `end`, after a comma unless they are its first. */
  private elements(t: Tensor, end: number, where: string): void {
    this.room(1 + jsonElementsRoom(end - this.element));
    const comma = this.element > 0;
    const at = writeJsonElementsInto(t, this.element, end, where, this.chunk, comma ? this.at + 1 : this.at);
    if (at < 0) {
      this.write((comma ? ',' : '') + writeJsonElements(t, this.element, end, where));
      return;
    }
    if (comma) this.chunk[this.at] = 0x2c;
    this.at = at;
  }

  /** `text` as UTF-8. */
  private write(text: string): void {
    if (text.length * 3 > this.chunk.length - this.at) this.room(Buffer.byteLength(text));
    this.at += this.chunk.write(text, this.at);
  }

  /** Makes room for `bytes` more: the current chunk is done when it cannot take them. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.chunk.length) return;
    if (this.at > 0) this.chunks.push(this.chunk.subarray(0, this.at));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.at = 0;
  }
}

/**
 * {@link serializeInferenceResponse} for large responses ({@link isLargeResponse}): the same JSON text, written in
 * slices that yield to the event loop, as UTF-8 chunks (about 1 MiB each) to send one after another (the
 * Content-Length is the sum of their lengths). Outputs that `binary` selects are collected in it as the synchronous
 * writer does. A text already written for a monitoring record is reused, as the synchronous writer reuses it.
 *
 * @internal
 */
export async function serializeInferenceResponseChunks(response: InferenceResponse, binary: BinaryOutputs | null = null): Promise<Buffer[]> {
  if (binary === null && kept > 0) {
    const written = takeKept(response);
    if (written !== undefined) return textChunks(written);
  }
  const writer = new ResponseChunkWriter(response, binary);
  await runInSlices(writer);
  return writer.chunks;
}

/** A text already written, as UTF-8 chunks, converted a piece at a time (never splitting a surrogate pair). */
class TextChunker implements SlicedWork {
  readonly chunks: Buffer[] = [];
  private at = 0;

  constructor(private readonly text: string) {}

  step(deadline: number): boolean {
    const text = this.text;
    while (this.at < text.length) {
      let end = Math.min(text.length, this.at + CHUNK_BYTES);
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      this.chunks.push(Buffer.from(text.slice(this.at, end), 'utf8'));
      this.at = end;
      if (performance.now() > deadline) return false;
    }
    return true;
  }
}

async function textChunks(text: string): Promise<Buffer[]> {
  const chunker = new TextChunker(text);
  await runInSlices(chunker);
  return chunker.chunks;
}
