import type { FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { parseJson } from '../../../codecs';
import { ErrorCode } from '../../../errors/error-code.enum';
import { ModelServerError } from '../../../errors/model-server.error';
import { BUDGETED_BODY_BYTES } from './body-hold.util';

/** Content types a v2 route reads as JSON (curl's default form type included; framing decides binary). */
const JSON_TYPES = new Set(['', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream']);

/** The header that announces the binary tensor extension's framing. */
export const INFERENCE_HEADER = 'inference-header-content-length';

/** A request body in the binary tensor extension's framing: a JSON header, then the tensors' bytes. @internal */
export class BinaryBody {
  constructor(
    /** The parsed JSON part. */
    readonly header: unknown,
    /** The bytes after the JSON part. */
    readonly tail: Buffer,
  ) {}
}

function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/** True for the content types a v2 route reads as JSON. @internal */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === 'application/json') return true;
  const type = mediaType(header);
  return JSON_TYPES.has(type) || type.endsWith('+json');
}

/** True for `application/json` and `+json` types only (not the lenient set the infer routes read as JSON). @internal */
export function isStrictJsonMediaType(header: string): boolean {
  const type = mediaType(header);
  return type === 'application/json' || type.endsWith('+json');
}

/** The text of a plain (unframed, not compressed) JSON body, parsed; an empty body is no body. @internal */
export function parseJsonText(text: string): unknown {
  return text === '' ? undefined : parseJson(text);
}

/**
 * The v2 routes' body parser: JSON whatever the content type says (framing is decided by
 * `Inference-Header-Content-Length` alone), 64-bit integers kept exact, a 415 for types that are
 * clearly something else. Plain bodies are parsed synchronously; compressed ones are inflated first.
 *
 * @internal
 */
/** The size of each large body a v2 route read (inflated), for the handler to hold in the byte budget. */
const largeBodies = new WeakMap<FastifyRequest, number>();

/** The (inflated) size of the request's body when it is large enough to count against the byte budget, else 0. @internal */
export function largeBodyBytes(request: FastifyRequest): number {
  return largeBodies.get(request) ?? 0;
}

export function parseV2Body(request: FastifyRequest, body: Buffer, maxBodyBytes: number, done: (err: Error | null, body?: unknown) => void): void {
  try {
    const header = request.headers['content-type'];
    if (!isJsonMediaType(header)) {
      throw new ModelServerError(
        ErrorCode.UnsupportedMediaType,
        `content type '${mediaType(header)}' is not supported here; send application/json (or the binary tensor framing)`,
      );
    }
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') {
      done(null, parseDecoded(request, body));
      return;
    }
    inflateBody(body, encoding, maxBodyBytes).then(
      (inflated) => parseInflated(request, inflated, done),
      (err: Error) => done(err),
    );
  } catch (err) {
    done(err as Error);
  }
}

/** Parses an inflated body; a parse failure goes to `done` like any other (it must never escape the promise chain). */
function parseInflated(request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void): void {
  let parsed: unknown;
  try {
    parsed = parseDecoded(request, body);
  } catch (err) {
    done(err as Error);
    return;
  }
  done(null, parsed);
}

function parseDecoded(request: FastifyRequest, body: Buffer): unknown {
  if (body.length >= BUDGETED_BODY_BYTES) largeBodies.set(request, body.length);
  const framing = request.headers[INFERENCE_HEADER];
  if (framing !== undefined) return splitBinaryBody(body, String(framing));
  return parseJsonText(body.toString('utf8'));
}

function splitBinaryBody(body: Buffer, header: string): BinaryBody {
  const length = /^\d+$/.test(header.trim()) ? Number(header) : NaN;
  if (!Number.isSafeInteger(length) || length > body.length) {
    throw new ModelServerError(
      ErrorCode.InvalidRequest,
      `${INFERENCE_HEADER} is '${header}' but the body has ${body.length} bytes; it must be the JSON part's length`,
    );
  }
  return new BinaryBody(parseJson(body.toString('utf8', 0, length)), body.subarray(length));
}

const gunzipAsync = promisify(gunzip) as (input: InputType, options: ZlibOptions) => Promise<Buffer>;
const inflateAsync = promisify(inflate) as (input: InputType, options: ZlibOptions) => Promise<Buffer>;

/** Inflates gzip / deflate bodies (tritonclient's compression), the body limit applying after inflation. */
async function inflateBody(body: Buffer, encoding: string, maxBodyBytes: number): Promise<Buffer> {
  const name = encoding.trim().toLowerCase();
  if (name === 'identity' || name === '') return body;
  if (name !== 'gzip' && name !== 'deflate' && name !== 'x-gzip') {
    throw new ModelServerError(ErrorCode.UnsupportedMediaType, `content encoding '${encoding}' is not supported; use gzip, deflate or none`);
  }
  try {
    const options = { maxOutputLength: maxBodyBytes };
    return name === 'deflate' ? await inflateAsync(body, options) : await gunzipAsync(body, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ModelServerError(
        ErrorCode.PayloadTooLarge,
        `the ${name} body inflates to more than ${maxBodyBytes} bytes, the limit (maxBodyBytes / MAX_BODY_BYTES)`,
      );
    }
    throw new ModelServerError(ErrorCode.InvalidRequest, `the body is not valid ${name} data: ${(err as Error).message}`);
  }
}
