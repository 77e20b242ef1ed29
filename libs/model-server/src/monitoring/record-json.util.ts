import { Buffer } from 'node:buffer';
import { formatFloat32, writeJsonData } from '../codecs';
import { serializeAndKeep } from '../codecs/v2-json/v2-json.serializer';
import { joinNumbers } from '../codecs/json-data.writer';
import { MAX_QUOTED_CHARS, clip } from '../errors/clip.util';
import { ByteStrings } from '../model/byte-strings';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import type { Tensor } from '../model/tensor.interface';
import type { InferenceEvent } from '../inference/inference-event.interface';

/** Nesting beyond this is written as a string marker: records stay bounded whatever model code returns. */
const MAX_DEPTH = 32;

function typedArrayJson(v: ArrayBufferView): string {
  if (v instanceof DataView) return 'null';
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return '[' + v.join(',') + ']';
  const a = v as unknown as ArrayLike<number>;
  const n = a.length;
  const parts = new Array<string>(n);
  const f32 = v instanceof Float32Array;
  for (let i = 0; i < n; i++) {
    const x = a[i];
    parts[i] = x - x !== 0 ? 'null' : f32 ? formatFloat32(x) : String(x);
  }
  return '[' + parts.join(',') + ']';
}

/** BYTES elements as an array of their UTF-8 texts. */
function byteStringsJson(v: ByteStrings): string {
  const n = v.length;
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = JSON.stringify(v.text(i));
  return '[' + parts.join(',') + ']';
}

function write(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return v - v === 0 ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      break;
    default:
      return 'null'; // undefined, functions, symbols
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) return '"[nested too deep]"';
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('utf8'));
  if (v instanceof ByteStrings) return byteStringsJson(v);
  if (ArrayBuffer.isView(v)) return typedArrayJson(v);
  if (Array.isArray(v)) {
    const parts = new Array<string>(v.length);
    for (let i = 0; i < v.length; i++) parts[i] = write(v[i], depth + 1);
    return '[' + parts.join(',') + ']';
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'null' : JSON.stringify(v.toISOString());
  if (v instanceof Map) return write(Object.fromEntries(v), depth + 1);
  if (v instanceof Set) return write([...v], depth + 1);
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(v), depth + 1);
  let text = '';
  for (const key of Object.keys(v)) {
    const item = (v as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    text += (text === '' ? '' : ',') + JSON.stringify(key) + ':' + write(item, depth + 1);
  }
  return '{' + text + '}';
}

/**
 * Any value as JSON text, for monitoring records; never throws. Beyond `JSON.stringify`: bigints as bare
 * integers, typed arrays as arrays (FP32 in its shortest form), Buffers as UTF-8 text (a `ByteStrings` as an
 * array of them), NaN and ±Infinity as
 * `null`, Maps and Sets as objects and arrays, nesting cut at 32 levels.
 *
 * @publicApi
 */
export function valueJson(v: unknown): string {
  return write(v, 0);
}

function dataJson(t: Tensor): string {
  try {
    return writeJsonData(t, 'a monitoring record tensor');
  } catch {
    // NaN/Infinity, or data a hook left outside its typed container: still logged, as well as JSON allows.
    return valueJson(t.data);
  }
}

/** A shape of plain numbers written at once; anything else as well as JSON allows. */
function shapeJson(shape: unknown): string {
  if (!Array.isArray(shape)) return valueJson(shape);
  for (let i = 0; i < shape.length; i++) if (typeof shape[i] !== 'number' || shape[i] - shape[i] !== 0) return valueJson(shape);
  return '[' + joinNumbers(shape as number[]) + ']';
}

/**
 * A decoded tensor as v2 JSON: `{"name","datatype","shape","parameters"?,"data"}` with flat data written by the
 * codecs (64-bit integers exact, floats shortest); values JSON cannot carry become `null`.
 *
 * @publicApi
 */
export function tensorJson(t: Tensor): string {
  if (typeof t !== 'object' || t === null) return valueJson(t);
  let text = '{"name":' + valueJson(t.name) + ',"datatype":' + valueJson(t.datatype) + ',"shape":' + shapeJson(t.shape);
  if (t.parameters !== undefined) text += ',"parameters":' + valueJson(t.parameters);
  return text + ',"data":' + dataJson(t) + '}';
}

function tensorsJson(tensors: readonly Tensor[]): string {
  if (!Array.isArray(tensors)) return valueJson(tensors);
  const parts = new Array<string>(tensors.length);
  for (let i = 0; i < tensors.length; i++) parts[i] = tensorJson(tensors[i]);
  return '[' + parts.join(',') + ']';
}

/**
 * A decoded request as v2 JSON, `id` first: `{"id","parameters"?,"inputs":[...],"outputs"?,"body"?}`
 * (`body` for custom operations whose body is not a v2 request).
 *
 * @publicApi
 */
export function requestJson(request: InferenceRequest, id: string = request.id): string {
  let text = '{"id":' + JSON.stringify(id);
  if (request.parameters !== undefined) text += ',"parameters":' + valueJson(request.parameters);
  text += ',"inputs":' + tensorsJson(request.inputs ?? []);
  if (request.outputs !== undefined) text += ',"outputs":' + valueJson(request.outputs);
  if (request.body !== undefined) text += ',"body":' + valueJson(request.body);
  return text + '}';
}

function isV2Response(v: unknown): v is { model_name: string; model_version?: string; id: string; parameters?: unknown; outputs: Tensor[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { outputs?: unknown }).outputs) && typeof (v as { model_name?: unknown }).model_name === 'string';
}

/**
 * A response as JSON: a v2 response (`model_name`, `model_version`?, `id`, `parameters`?, `outputs`, as the REST
 * route writes it) with its tensors written by the codecs, or an operation's value as it is.
 *
 * @publicApi
 */
export function responseJson(response: unknown): string {
  if (!isV2Response(response)) return valueJson(response);
  try {
    // The text the transport is about to send, kept for it: the response's tensors are written once.
    return serializeAndKeep(response as InferenceResponse);
  } catch {
    // Values JSON cannot carry (the client gets a 500): logged as well as JSON allows, below.
  }
  let text = '{"model_name":' + JSON.stringify(response.model_name);
  if (response.model_version !== undefined) text += ',"model_version":' + valueJson(response.model_version);
  text += ',"id":' + valueJson(response.id);
  if (response.parameters !== undefined) text += ',"parameters":' + valueJson(response.parameters);
  return text + ',"outputs":' + tensorsJson(response.outputs) + '}';
}

interface WireLike {
  parameters?: unknown;
  inputs: unknown[];
  outputs?: unknown;
}

function wireTensorJson(t: unknown): string {
  if (typeof t !== 'object' || t === null) return valueJson(t);
  const { name, datatype, shape, parameters, data, raw } = t as Record<string, unknown>;
  let text = '{"name":' + valueJson(name) + ',"datatype":' + valueJson(datatype) + ',"shape":' + valueJson(shape);
  if (raw instanceof Uint8Array && data === undefined) {
    // Binary data (REST binary extension, gRPC raw contents): its size is logged, not its bytes.
    return text + ',"parameters":' + valueJson({ ...(parameters as object | undefined), binary_data_size: raw.byteLength }) + '}';
  }
  if (parameters !== undefined) text += ',"parameters":' + valueJson(parameters);
  return text + ',"data":' + valueJson(data) + '}';
}

/**
 * The bytes of a body the server could not read (malformed JSON, a type it does not take), as client text is
 * quoted: UTF-8, at most {@link MAX_QUOTED_CHARS} characters, then how many bytes it had. Only the bytes the
 * quote can show are decoded (a character takes at most 4), however large the body.
 */
function unreadBodyText(bytes: Uint8Array): string {
  const shown = 4 * (MAX_QUOTED_CHARS + 1);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, shown));
  if (bytes.byteLength <= shown) return clip(buffer.toString('utf8'));
  return buffer.toString('utf8').slice(0, MAX_QUOTED_CHARS) + '… (' + bytes.byteLength + ' bytes)';
}

/** `{"id","body"}`: a body the server could not read, its text quoted ({@link unreadBodyText}). */
function unreadRequestJson(bytes: Uint8Array, id: string): string {
  return '{"id":' + JSON.stringify(id) + ',"body":' + JSON.stringify(unreadBodyText(bytes)) + '}';
}

/**
 * A request as the client sent it (before decoding and hooks), as JSON with `id` set to the request's id.
 * A v2 request keeps its layout (data as sent, nested or flat); binary tensors show their byte size; a body the
 * server could not read (its bytes) is `{"id","body"}` with the start of its text, clipped as client text is;
 * any other body is written as it is.
 *
 * @publicApi
 */
export function wireRequestJson(raw: unknown, id: string): string {
  if (raw === undefined) return '{"id":' + JSON.stringify(id) + '}';
  if (raw instanceof Uint8Array) return unreadRequestJson(raw, id);
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as WireLike).inputs)) return valueJson(raw);
  const wire = raw as WireLike;
  let text = '{"id":' + JSON.stringify(id);
  if (wire.parameters !== undefined) text += ',"parameters":' + valueJson(wire.parameters);
  const parts = new Array<string>(wire.inputs.length);
  for (let i = 0; i < wire.inputs.length; i++) parts[i] = wireTensorJson(wire.inputs[i]);
  text += ',"inputs":[' + parts.join(',') + ']';
  if (wire.outputs !== undefined) text += ',"outputs":' + valueJson(wire.outputs);
  return text + '}';
}

/**
 * The request of a failed request's record, `request.id` set to the request's id: the client's JSON text as sent
 * when the event has it, else what the transport received (a v2 request in its layout, any other body's keys after
 * the id; a body it could not read as `{"id","body"}`, the start of its text clipped as client text is), else the
 * decoded request; `{"id"}` alone when there was no body to show.
 *
 * @internal
 */
export function errorRequestJson(event: InferenceEvent): string {
  const id = event.id;
  if (event.requestText !== undefined) {
    const sent = sentRequestJson(event.requestText, id, event.rawRequest);
    if (sent !== undefined) return sent;
  }
  const raw = event.rawRequest;
  if (raw instanceof Uint8Array) return unreadRequestJson(raw, id);
  if (raw !== undefined && typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const inputs = (raw as WireLike).inputs;
    if (Array.isArray(inputs) && inputs.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t))) return wireRequestJson(raw, id);
    let text = '{"id":' + JSON.stringify(id);
    for (const key of Object.keys(raw)) {
      if (key === 'id') continue;
      text += ',' + JSON.stringify(key) + ':' + valueJson((raw as Record<string, unknown>)[key]);
    }
    return text + '}';
  }
  if (event.request !== undefined) return requestJson(event.request, id);
  return raw === undefined ? '{"id":' + JSON.stringify(id) + '}' : '{"id":' + JSON.stringify(id) + ',"body":' + valueJson(raw) + '}';
}

/**
 * A request's JSON text as the client sent it, with `id` set: as it is when it carries that id, else with
 * `"id"` put first. Undefined when it cannot go into a record as it is: a line break between its tokens (a
 * JSON-lines record is one line), a body that is not an object, or an id other than `id`.
 *
 * @publicApi
 */
export function sentRequestJson(text: string, id: string, raw: unknown): string | undefined {
  if (text.indexOf('\n') !== -1 || text.indexOf('\r') !== -1) return undefined;
  const start = skipBlanks(text, 0);
  if (text.charCodeAt(start) !== 123 /* { */) return undefined;
  const sent = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  if (sent !== undefined) return sent === id ? text.slice(start) : undefined;
  if (text.charCodeAt(skipBlanks(text, start + 1)) === 125 /* } */) return undefined;
  return '{"id":' + JSON.stringify(id) + ',' + text.slice(start + 1);
}

/** The index of the first character at or after `i` that is not a space or a tab. */
function skipBlanks(text: string, i: number): number {
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  return i;
}

/** An event's request as the client's own JSON text ({@link sentRequestJson}), when the event has it and it fits. @internal */
export function sentRequestOf(event: InferenceEvent): string | undefined {
  return event.requestText === undefined ? undefined : sentRequestJson(event.requestText, event.id, event.rawRequest);
}
