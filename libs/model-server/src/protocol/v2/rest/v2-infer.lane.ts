import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { DataPlane } from '../../../inference/data-plane';
import type { FastLane } from '../../http/fast-lane';
import { writeAnswer } from '../../http/http-answer';
import { bodyReading, readRequestBody } from '../../http/request-body.reader';
import type { V2RestEndpoint } from './v2-rest.endpoint';
import { matchInferPath, type InferTarget } from './v2-routes.table';

/**
 * The second door of the v2 infer route: the HTTP server offers it each request before Fastify's request
 * lifecycle, and it takes `POST …/infer` with a Content-Length within the body limit from an admitted client,
 * while the server is not shutting down, for a model whose requests no Nest guard or interceptor must see; it reads the body and gives it to the same {@link V2RestEndpoint} the
 * Fastify route calls, so the answer and the monitoring event are the same. Everything else (chunked or
 * oversized bodies, refused credentials, other routes, a query string) goes to Fastify, whose hooks answer it.
 *
 * @internal
 */
export class V2InferLane {
  private readonly logger = new Logger('V2Rest');

  constructor(
    private readonly endpoint: V2RestEndpoint,
    private readonly dataPlane: DataPlane,
    private readonly maxBodyBytes: number,
    /** The server's credentials check (the one Fastify's auth hook calls). */
    private readonly admits: (url: string, headers: IncomingHttpHeaders) => boolean,
    /** Models whose requests go through the application's guards or interceptors, in Fastify's route (none when absent). */
    private readonly guarded?: (model: string) => boolean,
  ) {}

  readonly handle: FastLane = (req, res) => {
    if (req.method !== 'POST' || this.dataPlane.draining) return false;
    const url = req.url ?? '';
    const target = matchInferPath(url);
    if (target === null || (this.guarded !== undefined && this.guarded(target.model))) return false;
    const headers = req.headers;
    const length = headers['content-length'];
    if (length === undefined || headers['transfer-encoding'] !== undefined || !(Number(length) <= this.maxBodyBytes) || !this.admits(url, headers)) {
      return false;
    }
    readRequestBody(req, length, this.maxBodyBytes, (err, body) => void this.serve(req, res, target, err, body), bodyReading(headers));
    return true;
  };

  private async serve(req: IncomingMessage, res: ServerResponse, target: InferTarget, err: Error | null, body: Buffer | undefined): Promise<void> {
    try {
      const call = { method: 'POST', url: req.url ?? '', params: target, headers: req.headers, body: body === undefined || body.length === 0 ? undefined : body, res };
      const answer = err !== null ? this.endpoint.refused(call, 'infer', err) : this.endpoint.handlers.infer(call);
      writeAnswer(res, answer instanceof Promise ? await answer : answer);
    } catch (err) {
      // The endpoint answers every failure itself; this is a fault in writing the answer.
      this.logger.error(`writing the answer to ${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`);
      res.destroy();
    }
  }
}
