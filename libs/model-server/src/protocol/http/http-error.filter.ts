import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, logHttpFault, toHttpError } from './http-status.map';

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
    let status: number;
    let message: string;
    let retryAfter: number | undefined;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse();
      const text = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      message = Array.isArray(text) ? text.join('; ') : typeof text === 'string' ? text : exception.message;
    } else {
      const answer = toHttpError(exception, this.debug);
      ({ status, message } = answer);
      retryAfter = answer.retryAfterSeconds;
      const req = http.getRequest<FastifyRequest>();
      logHttpFault(this.logger, req?.method ?? '?', req?.url ?? '?', exception);
    }
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    reply.code(status).header('content-type', 'application/json; charset=utf-8').send(errorBody(message));
  }
}
