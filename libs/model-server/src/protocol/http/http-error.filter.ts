import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clip, MAX_MESSAGE_CHARS, MAX_QUOTED_CHARS } from '../../errors/clip.util';
import { errorAnswer, jsonAnswer, sendAnswer, statusErrorAnswer, type HttpAnswer } from './http-answer';
import { logHttpFault } from './http-status.map';

/**
 * Answers every error that reaches Nest (unknown routes, Nest controllers) as `{"error": "<message>"}`, the
 * shape the v2 routes use, so a client sees one error format from the whole server.
 * `ModelServerModule` registers it (as `APP_FILTER`).
 *
 * @internal
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  constructor(private readonly debug = false) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest | undefined>();
    let answer: HttpAnswer;
    if (exception instanceof HttpException && typeof exception.getResponse() === 'object' && !('message' in (exception.getResponse() as object))) {
      answer = jsonAnswer(exception.getStatus(), JSON.stringify(exception.getResponse()));
    } else if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const text = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = Array.isArray(text) ? text.join('; ') : typeof text === 'string' ? text : exception.message;
      answer = statusErrorAnswer(exception.getStatus(), clippedMessage(message, req?.raw?.url ?? req?.url));
    } else {
      answer = errorAnswer(exception, this.debug);
      logHttpFault(this.logger, req?.method ?? '?', req?.url ?? '?', exception);
    }
    sendAnswer(reply, answer);
  }
}

/**
 * An `HttpException`'s message as the answer may carry it: the request's URL, which Nest's router quotes whole in
 * its 404 (`Cannot GET /…`), clipped like any client text, and the message cut at {@link MAX_MESSAGE_CHARS}.
 */
function clippedMessage(message: string, url: string | undefined): string {
  const quoted = url !== undefined && url.length > MAX_QUOTED_CHARS ? message.split(url).join(clip(url)) : message;
  return clip(quoted, MAX_MESSAGE_CHARS);
}
