import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
    let answer: HttpAnswer;
    if (exception instanceof HttpException && typeof exception.getResponse() === 'object' && !('message' in (exception.getResponse() as object))) {
      answer = jsonAnswer(exception.getStatus(), JSON.stringify(exception.getResponse()));
    } else if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const text = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = Array.isArray(text) ? text.join('; ') : typeof text === 'string' ? text : exception.message;
      answer = statusErrorAnswer(exception.getStatus(), message);
    } else {
      answer = errorAnswer(exception, this.debug);
      const req = http.getRequest<FastifyRequest>();
      logHttpFault(this.logger, req?.method ?? '?', req?.url ?? '?', exception);
    }
    sendAnswer(reply, answer);
  }
}
