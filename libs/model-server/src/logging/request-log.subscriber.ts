import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ErrorCode } from '../errors/error-code.enum';
import { InferenceEventStream } from '../inference/inference-event-stream';
import type { InferenceEvent } from '../inference/inference-event.interface';
import { PinoLogger } from './pino-logger';

/** Codes that are the client's doing: logged at info, never as errors. */
const CLIENT_CODES = new Set<ErrorCode | undefined>([
  ErrorCode.InvalidRequest,
  ErrorCode.Unauthenticated,
  ErrorCode.NotFound,
  ErrorCode.NotAcceptable,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
  ErrorCode.Cancelled,
]);

/**
 * One structured line per request from the data plane's event stream: id, model, version, op, protocol,
 * outcome, error code, duration, and the trace and span ids when traced. Successes at `debug`, the client's mistakes at `info`, not-ready, overload
 * and deadlines at `warn`, faults at `error` (message only: stack traces stay out of logs of requests).
 *
 * @internal
 */
@Injectable()
export class RequestLogSubscriber implements OnModuleInit, OnApplicationShutdown {
  private stop: (() => void) | null = null;

  constructor(
    @Inject(InferenceEventStream) private readonly events: InferenceEventStream,
    @Inject(PinoLogger) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    this.stop = this.events.listen((event) => this.log(event), { payloads: false });
  }

  onApplicationShutdown(): void {
    this.stop?.();
    this.stop = null;
    this.logger.flush();
  }

  private log(e: InferenceEvent): void {
    const pino = this.logger.pino;
    const level = e.status === 'ok' ? 'debug' : CLIENT_CODES.has(e.errorCode) ? 'info' : e.errorCode === ErrorCode.ModelError || e.errorCode === ErrorCode.Internal ? 'error' : 'warn';
    // The logger's default levels: a number compared, as pino does, without its lookup on every request.
    if (pino.levels.values[level] < pino.levelVal) return;
    pino[level](
      {
        context: 'request',
        id: e.id,
        model: e.model,
        version: e.version,
        op: e.op,
        protocol: e.protocol,
        outcome: e.status,
        code: e.errorCode,
        durationMs: Math.round(e.durationMs * 1000) / 1000,
        error: e.error,
        // The request's span, when traced (OpenTelemetry's log correlation names).
        trace_id: e.traceId,
        span_id: e.spanId,
      },
      e.status === 'ok' ? 'request served' : 'request failed',
    );
  }
}
