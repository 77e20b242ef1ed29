import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { parseJson } from '../../../codecs';
import { LARGE_JSON_BODY_BYTES, parseJsonBody, type JsonBodyOptions } from '../../../codecs/json-body.parser';
import { mediaTypeOf } from '../../../codecs/content/media-type.util';
import { INFERENCE_HEADER } from '../../http/binary-framing';
import { decodeContentEncoding, isIdentityEncoding } from '../../http/content-encoding';
import { binaryFramingMismatch, unsupportedContentType } from '../../../errors';

/** Content types a v2 route reads as JSON (curl's default form type included; framing decides binary). */
const JSON_TYPES = new Set(['', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream']);

/** A request body in the binary tensor extension's framing: a JSON header, then the tensors' bytes. @internal */
export class BinaryBody {
  constructor(
    /** The parsed JSON part. */
    readonly header: unknown,
    /** The bytes after the JSON part. */
    readonly tail: Buffer,
  ) {}
}

/** A v2 body as read: its value, its JSON text when it was plain JSON, and its size once inflated. @internal */
export interface DecodedBody {
  /** The parsed JSON, a {@link BinaryBody}, or undefined for no body. */
  value: unknown;
  /** The JSON text, when the body was plain (unframed) JSON: monitoring logs it as the client sent it. */
  text: string | undefined;
  /** Bytes of the body after inflation. */
  bytes: number;
}

/** True for the content types a v2 route reads as JSON. @internal */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === 'application/json') return true;
  const type = mediaTypeOf(header);
  return JSON_TYPES.has(type) || type.endsWith('+json');
}

/** True for `application/json` and `+json` types only (not the lenient set the infer routes read as JSON). @internal */
export function isStrictJsonMediaType(header: string | undefined): boolean {
  const type = mediaTypeOf(header);
  return type === 'application/json' || type.endsWith('+json');
}

const NO_BODY: DecodedBody = { value: undefined, text: undefined, bytes: 0 };

/**
 * Reads a v2 body: JSON whatever the content type says (framing is decided by `Inference-Header-Content-Length`
 * alone), 64-bit integers kept exact, a 415 for types that are clearly something else; gzip / deflate bodies
 * inflated first, the body limit applying after inflation. Synchronous unless the body is compressed.
 *
 * @internal
 */
export function decodeV2Body(
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  maxBodyBytes: number,
  inputPath?: string,
  maxValueBytes?: number,
): DecodedBody | Promise<DecodedBody> {
  if (body !== undefined && body.length > 0) {
    const type = headers['content-type'];
    if (!isJsonMediaType(type)) throw unsupportedContentType(mediaTypeOf(type), 'send application/json (or the binary tensor framing)');
  }
  // No body is no body, unless it claims an encoding: zero bytes are not valid gzip or deflate data.
  const plain = decodeContentEncoding(headers['content-encoding'], body, maxBodyBytes);
  if (plain instanceof Promise) return plain.then((inflated) => parseDecoded(headers, inflated, { inputPath, maxValueBytes }));
  return plain === undefined || plain.length === 0 ? NO_BODY : parseDecoded(headers, plain, { inputPath, maxValueBytes });
}

/**
 * The bytes of a body that could not be read, as the client sent them, for the refusal's monitoring event (records
 * quote the start of their text); undefined when there are none, or when they are compressed (not text).
 *
 * @internal
 */
export function unreadBody(headers: IncomingHttpHeaders, body: Buffer | undefined): Buffer | undefined {
  if (body === undefined || body.length === 0) return undefined;
  return isIdentityEncoding(headers['content-encoding']) ? body : undefined;
}

/**
 * A plain body: small ones parsed at once, their text kept for monitoring; large ones parsed in slices with their
 * tensor data left as bytes of the body (`parseJsonBody`), without a text (it would be as large as the body).
 */
function parseDecoded(headers: IncomingHttpHeaders, body: Buffer, options: JsonBodyOptions): DecodedBody | Promise<DecodedBody> {
  const framing = headers[INFERENCE_HEADER];
  if (framing !== undefined) {
    const value = splitBinaryBody(body, String(framing), options.maxValueBytes);
    return value instanceof Promise ? value.then((v) => ({ value: v, text: undefined, bytes: body.length })) : { value, text: undefined, bytes: body.length };
  }
  if (body.length === 0) return NO_BODY;
  if (body.length >= LARGE_JSON_BODY_BYTES) {
    return (parseJsonBody(body, options) as Promise<unknown>).then((value) => ({ value, text: undefined, bytes: body.length }));
  }
  const text = body.toString('utf8');
  return { value: parseJson(text), text, bytes: body.length };
}

/** The JSON part parsed as a JSON body is (a large one in slices), the rest kept as the tensors' bytes. */
function splitBinaryBody(body: Buffer, header: string, maxValueBytes: number | undefined): BinaryBody | Promise<BinaryBody> {
  const length = /^\d+$/.test(header.trim()) ? Number(header) : NaN;
  if (!Number.isSafeInteger(length) || length > body.length) {
    throw binaryFramingMismatch(INFERENCE_HEADER, header, body.length);
  }
  const tail = body.subarray(length);
  const json = parseJsonBody(body.subarray(0, length), { maxValueBytes });
  return json instanceof Promise ? json.then((value) => new BinaryBody(value, tail)) : new BinaryBody(json, tail);
}
