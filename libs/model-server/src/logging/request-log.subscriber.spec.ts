import { Writable } from 'node:stream';
import { ErrorCode } from '../errors/error-code.enum';
import { InferenceEventStream } from '../inference/inference-event-stream';
import type { InferenceEvent } from '../inference/inference-event.interface';
import { PinoLogger } from './pino-logger';
import { RequestLogSubscriber } from './request-log.subscriber';

function capture(level: 'debug' | 'info'): { logger: PinoLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: new PinoLogger(level, sink), lines };
}

const event = (over: Partial<InferenceEvent>): InferenceEvent => ({
  id: 'r1',
  model: 'iris',
  version: '2',
  modelClass: 'IrisModel',
  op: 'infer',
  protocol: 'rest',
  startedAt: 0,
  durationMs: 1.23456,
  stages: {},
  status: 'ok',
  request: undefined,
  rawRequest: undefined,
  response: undefined,
  errorCode: undefined,
  error: undefined,
  metrics: {},
  statistics: undefined,
  labels: {},
  traceparent: undefined,
  ...over,
});

describe('RequestLogSubscriber', () => {
  it('logs the client\'s mistakes at info, faults at error, successes only at debug', () => {
    const { logger, lines } = capture('info');
    const events = new InferenceEventStream();
    const subscriber = new RequestLogSubscriber(events, logger);
    subscriber.onModuleInit();
    events.emit(event({}));
    events.emit(event({ id: 'bad', status: 'error', errorCode: ErrorCode.InvalidRequest, error: 'input x: out of range' }));
    events.emit(event({ id: 'bug', status: 'error', errorCode: ErrorCode.ModelError, error: 'model failed in predict' }));
    events.emit(event({ id: 'late', status: 'error', errorCode: ErrorCode.DeadlineExceeded, error: 'deadline' }));
    expect(lines.map((l) => [l.id, l.level])).toEqual([
      ['bad', 'info'],
      ['bug', 'error'],
      ['late', 'warn'],
    ]);
    expect(lines[0]).toMatchObject({ context: 'request', model: 'iris', version: '2', op: 'infer', protocol: 'rest', outcome: 'error', code: 'INVALID_REQUEST', durationMs: 1.235, msg: 'request failed' });
    expect(lines.some((l) => 'stack' in l)).toBe(false);
    expect(lines[0]).not.toHaveProperty('trace_id');
    subscriber.onApplicationShutdown();
  });

  it("names a traced request's trace and span (OpenTelemetry's log correlation fields)", () => {
    const { logger, lines } = capture('debug');
    const events = new InferenceEventStream();
    const subscriber = new RequestLogSubscriber(events, logger);
    subscriber.onModuleInit();
    events.emit(event({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }));
    expect(lines[0]).toMatchObject({ id: 'r1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
    subscriber.onApplicationShutdown();
  });

  it('logs successes at debug level', () => {
    const { logger, lines } = capture('debug');
    const events = new InferenceEventStream();
    new RequestLogSubscriber(events, logger).onModuleInit();
    events.emit(event({}));
    expect(lines).toEqual([expect.objectContaining({ level: 'debug', id: 'r1', outcome: 'ok', msg: 'request served' })]);
  });
});
