import { Buffer } from 'node:buffer';
import { JsonBodyBuilder } from './json-body.builder';
import { JsonBodyScanner, NO_SPANS, type SpanPolicy, V2_SPANS } from './json-body.scanner';
import { parseJson } from './lossless-json';
import { runInSlices } from './time-slice.util';

/**
 * Bodies from this size (bytes) are parsed in slices, their tensor data left as {@link DeferredTensorData};
 * smaller ones are parsed at once, as they always were (a 64 KiB body parses in well under a millisecond).
 *
 * @internal
 */
export const LARGE_JSON_BODY_BYTES = 64 * 1024;

/** How to read a JSON body. @internal */
export interface JsonBodyOptions {
  /**
   * The dotted path of the v2 request inside the body (a model's body input path); its `inputs[i].data` are the
   * tensor data. The request is the body itself when absent.
   */
  inputPath?: string;
  /** The body is plain JSON values, no v2 request (an OpenAI completion): nothing deferred, all of it counted. */
  valuesOnly?: boolean;
  /**
   * The most heap, in bytes, the JSON values of a large body outside its tensor data may take once built, as the
   * scanner estimates it (the `maxJsonValueBytes` request limit; {@link DEFAULT_MAX_JSON_VALUE_BYTES} when absent).
   */
  maxValueBytes?: number;
}

/**
 * Parses a request body as JSON, bounded in memory and in event-loop time.
 *
 * - Below {@link LARGE_JSON_BODY_BYTES}: exactly {@link parseJson} of its UTF-8 text, synchronously.
 * - From that size: a promise. A first pass over the bytes checks the whole body (the same `malformed JSON: <what>
 *   at position N` errors, N a byte offset), estimates the heap the values outside tensor data will take (past
 *   `maxValueBytes` a 400 before anything is built) and finds the request's `inputs[i].data` arrays,
 *   however their keys are written; a second pass builds the rest as {@link parseJson} would (integers beyond 2^53
 *   exact, `__proto__` an own property, nesting up to 512 levels) and leaves each of those arrays as a
 *   {@link DeferredTensorData}. Both passes yield to the event loop every few milliseconds. After the request's
 *   structural check, {@link decodeDeferredData} turns the placeholders into typed tensor data.
 *
 * Either way, numbers beyond the largest double (`1e999`) and integer literals of more than 20 digits are 400s.
 * An empty body is malformed JSON (a transport that reads an empty body as "no body" checks that first).
 *
 * @internal
 */
export function parseJsonBody(body: Buffer, options?: JsonBodyOptions): unknown | Promise<unknown> {
  if (body.length < LARGE_JSON_BODY_BYTES) return parseJson(body.toString('utf8'));
  const inputPath = options?.inputPath;
  const policy = options?.valuesOnly === true ? NO_SPANS : inputPath === undefined ? V2_SPANS : { rows: false, path: inputPath.split('.') };
  return parseLargeJsonBody(body, policy, options?.maxValueBytes);
}

/**
 * A large body parsed in slices with the given {@link SpanPolicy} (see {@link parseJsonBody}).
 *
 * @internal
 */
export async function parseLargeJsonBody(body: Buffer, policy: SpanPolicy, maxValueBytes?: number): Promise<unknown> {
  const scanner = new JsonBodyScanner(body, policy, maxValueBytes);
  await runInSlices(scanner);
  const builder = new JsonBodyBuilder(body, scanner.spans, scanner.longStrings);
  await runInSlices(builder);
  return builder.result;
}
