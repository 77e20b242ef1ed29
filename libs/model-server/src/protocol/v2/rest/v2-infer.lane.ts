import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { serializeInferenceResponse } from '../../../codecs/v2-json/v2-json.serializer';
import { checkInferenceRequest } from '../../../codecs/v2-json/v2-request.schema';
import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { FastLane } from '../../http/fast-lane';
import { serializeBinaryResponse, wantsBinaryResponse } from './binary-tensor.framing';
import { errorBody, logHttpFault, toHttpError } from './http-status.map';
import { holdBodyBytes } from './body-hold.util';
import { checkRequestLimits } from '../../../inference/request-limits';
import { callOptions, passedHeaders } from './rest-call.options';
import { INFERENCE_HEADER, isJsonMediaType, parseJsonText } from './v2-body.parser';
import { BINARY_TYPE, JSON_TYPE, type V2RestSettings } from './v2-rest.routes';

const PREFIX = '/v2/models/';
const SUFFIX = '/infer';
const VERSIONS = '/versions/';
/** Fastify's router refuses longer path parameters; such requests are left to it. */
const MAX_SEGMENT = 256;
const EMPTY = Buffer.alloc(0);

/** The model and version a v2 infer path addresses. @internal */
export interface InferTarget {
  model: string;
  version: string | undefined;
}

/**
 * `/v2/models/<model>[/versions/<version>]/infer` (a trailing slash allowed) as its model and version; null for
 * any other path and for those the router should judge: a query string, percent-encoding, empty or over-long
 * segments.
 *
 * @internal
 */
export function matchInferPath(url: string): InferTarget | null {
  if (!url.startsWith(PREFIX) || url.includes('?') || url.includes('%')) return null;
  const end = url.endsWith('/') ? url.length - 1 : url.length;
  if (!url.endsWith(SUFFIX, end)) return null;
  const inner = url.slice(PREFIX.length, end - SUFFIX.length);
  const slash = inner.indexOf('/');
  const model = slash === -1 ? inner : inner.slice(0, slash);
  if (model.length === 0 || model.length > MAX_SEGMENT) return null;
  if (slash === -1) return { model, version: undefined };
  if (!inner.startsWith(VERSIONS, slash)) return null;
  const version = inner.slice(slash + VERSIONS.length);
  if (version.length === 0 || version.length > MAX_SEGMENT || version.includes('/')) return null;
  return { model, version };
}

/**
 * The v2 JSON infer route served straight from the HTTP server, before Fastify's request lifecycle: the
 * route every client calls most, at the cost of one parse, one check, the data plane and one write.
 *
 * It takes only requests it answers exactly as the Fastify route would (same parser, check, data plane,
 * serializer, error catalogue and monitoring events): a POST to an infer path with a Content-Length within the
 * body limit, a JSON content type, no Content-Encoding, no binary framing, to a model without body paths,
 * with valid credentials when auth is on, while the server is not shutting down. Everything else (gzip
 * bodies, binary framing, refused credentials, oversized bodies, chunked uploads) goes through Fastify.
 *
 * @internal
 */
export class V2InferLane {
  private readonly logger = new Logger('V2Rest');

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly settings: V2RestSettings,
    /** The credentials check when auth is on, else null. */
    private readonly authorize: ((headers: IncomingHttpHeaders) => boolean) | null,
  ) {}

  readonly handle: FastLane = (req, res) => {
    if (req.method !== 'POST' || this.dataPlane.draining) return false;
    const target = matchInferPath(req.url ?? '');
    if (target === null || this.settings.bodyPaths.has(target.model)) return false;
    const headers = req.headers;
    const length = headers['content-length'];
    if (
      length === undefined ||
      headers['transfer-encoding'] !== undefined ||
      headers['content-encoding'] !== undefined ||
      headers[INFERENCE_HEADER] !== undefined ||
      !(Number(length) <= this.settings.maxBodyBytes) ||
      !isJsonMediaType(headers['content-type']) ||
      (this.authorize !== null && !this.authorize(headers))
    ) {
      return false;
    }
    readBody(req, (body) => void this.serve(req, res, target, body));
    return true;
  };

  private async serve(req: IncomingMessage, res: ServerResponse, target: InferTarget, body: Buffer): Promise<void> {
    let parsed: unknown;
    try {
      holdBodyBytes(this.dataPlane.byteBudget, body.length, res);
      const text = body.toString('utf8');
      parsed = parseJsonText(text);
      const wire = checkInferenceRequest(parsed);
      checkRequestLimits(wire, this.dataPlane.limits);
      const response = await this.dataPlane.infer(target.model, target.version, wire, callOptions(req.headers, res, text));
      this.answer(res, wire, response);
    } catch (err) {
      // As the route's error handler does: monitoring gets the request's event when the data plane has not given
      // it yet (unreadable body, failed check, bad timeout header), and the answer comes from the error catalogue.
      this.dataPlane.reportRejected('infer', target.model, target.version, parsed, err, { protocol: 'rest', headers: passedHeaders(req.headers) });
      this.fail(req, res, err);
    }
  }

  private answer(res: ServerResponse, wire: WireInferenceRequest, response: InferenceResponse): void {
    if (wantsBinaryResponse(wire)) {
      const binary = serializeBinaryResponse(response, wire);
      write(res, 200, { 'content-type': BINARY_TYPE, [INFERENCE_HEADER]: binary.headerLength, 'content-length': binary.body.length }, binary.body);
      return;
    }
    const text = serializeInferenceResponse(response);
    write(res, 200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) }, text);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const answer = toHttpError(err, this.settings.debug);
    logHttpFault(this.logger, req.method ?? 'POST', req.url ?? '', answer, err);
    const text = errorBody(answer.message);
    const headers: OutgoingHttpHeaders = { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) };
    if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
    write(res, answer.status, headers, text);
  }
}

/** Collects the body (its length already checked against the limit), then calls `then` once. */
function readBody(req: IncomingMessage, then: (body: Buffer) => void): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  req.on('data', (chunk: Buffer) => {
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  });
  req.on('end', () => then(chunks !== undefined ? Buffer.concat(chunks) : (first ?? EMPTY)));
  // A client that goes away mid-body: nothing to answer, and the socket is already closed.
  req.on('error', () => undefined);
}

function write(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
  if (res.destroyed) return; // the client went away; the data plane has its event already
  res.writeHead(status, headers);
  res.end(body);
}
