import process from 'node:process';
import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';

/** Levels from the most to the least verbose, as LOG_LEVEL takes them. @internal */
export const SERVER_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link SERVER_LOG_LEVELS}. @publicApi */
export type ServerLogLevel = (typeof SERVER_LOG_LEVELS)[number];

/** The level a {@link PinoLogger} logs from unless told otherwise (the CLI's `LOG_LEVEL` default too). @internal */
export const DEFAULT_LOG_LEVEL: ServerLogLevel = 'info';

const NEST_TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/**
 * Structured JSON logs (one object per line) through pino, usable as Nest's logger
 * (`app.useLogger(...)`): Nest's context becomes the `context` field. Writes are buffered by
 * pino's destination, so a log line costs little on the request path.
 *
 * @publicApi
 */
export class PinoLogger implements LoggerService {
  readonly pino: Pino;
  private readonly destination: DestinationStream & { flushSync?: () => void };

  constructor(level: ServerLogLevel = DEFAULT_LOG_LEVEL, destination?: DestinationStream) {
    this.destination = destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
    this.pino = pino(
      { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      this.destination,
    );
    // Buffered lines must not be lost when the process exits.
    process.once('exit', () => this.flush());
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Writes what is buffered, synchronously (safe right before exiting). */
  flush(): void {
    try {
      if (typeof this.destination.flushSync === 'function') this.destination.flushSync();
    } catch {
      // Nothing buffered yet (the destination is still opening): nothing to lose.
    }
  }

  /** Nest calls `(message, context)` or, for errors, `(message, stack, context)`. */
  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    const method = NEST_TO_PINO[level];
    if (!this.pino.isLevelEnabled(method)) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields: Record<string, unknown> = {};
    if (context !== undefined) fields.context = context;
    if (stack !== undefined) fields.stack = stack;
    if (message instanceof Error) {
      fields.err = { message: message.message, stack: message.stack };
      this.pino[method](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[method]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[method](fields, String(message));
    }
  }
}
