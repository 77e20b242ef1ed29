import process from 'node:process';
import { Logger, type LoggerService } from '@nestjs/common';
import { clip } from '../errors/clip.util';
import { ModelState } from '../model/model-state.enum';
import type { ModelRepository } from './model-repository';
import { currentModelScope, trackModelScopes, wantModelScopes } from './model-scope';
import { ModelVersion } from './model-version';

/** Faults of one model version, outside requests, within {@link DEFAULT_FAULT_WINDOW_MS} that mark it failed. @publicApi */
export const DEFAULT_MAX_MODEL_FAULTS = 5;

/** The window, in milliseconds, in which {@link DEFAULT_MAX_MODEL_FAULTS} faults mark a model failed. @publicApi */
export const DEFAULT_FAULT_WINDOW_MS = 60_000;

/** The most characters of a fault's text (message and stack) a log line keeps. */
const MAX_FAULT_TEXT = 4000;

/** Settings of a {@link ModelFaultGuard}. @publicApi */
export interface ModelFaultGuardOptions {
  /** Faults within `windowMs` that mark a model version failed (default {@link DEFAULT_MAX_MODEL_FAULTS}). */
  maxFaults?: number;
  /** The window in milliseconds (default {@link DEFAULT_FAULT_WINDOW_MS}). */
  windowMs?: number;
  /** Where faults are logged (default: Nest's logger, context `ModelFaults`). */
  logger?: LoggerService;
  /** Time source in epoch milliseconds (tests pass their own). */
  now?: () => number;
  /**
   * When model scopes start being tracked: `first-fault` (default) costs nothing until something goes wrong,
   * and traces the first faults by their stack only; `always` traces every fault by scope, for about 2 µs of CPU
   * per small request (Node 20 runs a hook for every promise, tick and timer once an `AsyncLocalStorage` is in use).
   */
  trackScopes?: 'first-fault' | 'always';
}

/** Where a fault was traced to. @publicApi */
export interface FaultAttribution {
  /** The model version's label (`'iris'` or `'iris' version '2'`), or undefined when no model could be named. */
  model: string | undefined;
  /** How it was found: the model scope its code ran in, its module file in the stack, or not at all. */
  by: 'scope' | 'stack' | 'none';
  /** Whether this fault marked the model failed. */
  markedFailed: boolean;
}

/** Recent faults of one version (or of the server), and how many log lines were left out. */
interface FaultRecord {
  /** Times of the latest faults, oldest first, at most maxFaults. */
  times: number[];
  /** The instance the faults were counted against (a reload starts the count again). */
  instance: object | null;
  /** Times of the latest log lines, at most maxFaults per window. */
  logged: number[];
  suppressed: number;
}

/**
 * Contains faults that escape model code outside any request (a timer that throws, a promise rejected with
 * nobody listening), so that they do not end the process. Give its handlers to the process:
 *
 * ```ts
 * const guard = new ModelFaultGuard(); // before the models load: their code then runs in model scopes
 * process.on('uncaughtException', guard.onUncaughtException);
 * process.on('unhandledRejection', guard.onUnhandledRejection);
 * const app = await NestFactory.create(...);
 * guard.watch(app.get(ModelRepository));
 * ```
 *
 * Each fault is traced to the model version whose code started it, by the model scope (an `AsyncLocalStorage`
 * entered around every hook call, which timers, callbacks and promises carry), else by the model's module file in
 * the error's stack. Scopes are tracked from the first fault on (or from the start, `trackScopes: 'always'`):
 * a healthy server pays nothing for them, and code started before tracking began (the first fault's, a timer
 * set at load) is traced by its stack. It is logged at error level naming the model; a version that faults `maxFaults` times within
 * `windowMs` is marked `failed` (readiness shows it, its requests answer 503, its instance is released once its
 * running requests are done; a repository load brings it back). A fault that cannot be traced is logged as the
 * server's and the process keeps running: its state is then truly unknown (a half-done operation of the server or
 * of a model), which is the price of not ending every request in flight for one stray error. Log lines are limited
 * to `maxFaults` per window for each model (and for the server); the next one says how many were left out.
 *
 * @publicApi
 */
export class ModelFaultGuard {
  private readonly maxFaults: number;
  private readonly windowMs: number;
  private readonly logger: LoggerService;
  private readonly now: () => number;
  private readonly records = new Map<ModelVersion | 'server', FaultRecord>();
  private repository: ModelRepository | null = null;

  constructor(options: ModelFaultGuardOptions = {}) {
    this.maxFaults = Math.max(1, options.maxFaults ?? DEFAULT_MAX_MODEL_FAULTS);
    this.windowMs = Math.max(1, options.windowMs ?? DEFAULT_FAULT_WINDOW_MS);
    this.logger = options.logger ?? new Logger('ModelFaults');
    this.now = options.now ?? Date.now;
    wantModelScopes();
    if (options.trackScopes === 'always') trackModelScopes();
  }

  /** The models whose module files a fault's stack is checked against, when no model scope names one. */
  watch(repository: ModelRepository): void {
    this.repository = repository;
  }

  /** The process's `uncaughtException` handler. */
  readonly onUncaughtException = (err: unknown): void => {
    this.fault(err, 'uncaughtException');
  };

  /** The process's `unhandledRejection` handler. */
  readonly onUnhandledRejection = (reason: unknown): void => {
    this.fault(reason, 'unhandledRejection');
  };

  /** Traces, logs and counts one fault; never throws. */
  fault(err: unknown, origin: string): FaultAttribution {
    try {
      return this.handle(err, origin);
    } catch (inner) {
      try {
        process.stderr.write(`a fault (${origin}) could not be handled: ${String(inner)}; the fault: ${describe(err)}\n`);
      } catch {
        // Nothing left to report with.
      }
      return { model: undefined, by: 'none', markedFailed: false };
    }
  }

  private handle(err: unknown, origin: string): FaultAttribution {
    const scoped = currentModelScope();
    // Something faults: from now on, trace by scope (what model code starts from here on carries its model).
    trackModelScopes();
    let mv: ModelVersion | undefined = scoped instanceof ModelVersion ? scoped : undefined;
    let by: FaultAttribution['by'] = mv === undefined ? 'none' : 'scope';
    let suspects: ModelVersion[] = [];
    if (mv === undefined) {
      suspects = this.byStack(err);
      if (suspects.length === 1) {
        mv = suspects[0];
        by = 'stack';
      }
    }
    const text = describe(err);
    if (mv === undefined) {
      const note = this.note('server');
      const hint = suspects.length > 1 ? `; its stack runs through the modules of ${suspects.map((s) => `model ${s.label}`).join(', ')}` : '';
      if (note !== null) {
        this.logger.error(
          `a fault (${origin}) escaped code that no model could be traced to${hint}; the server keeps running, though the state of what ` +
            `that code was doing is unknown${note}: ${text}`,
        );
      }
      return { model: undefined, by, markedFailed: false };
    }
    const record = this.count(mv);
    const faults = record.times.length;
    let markedFailed = false;
    let outcome: string;
    if (mv.state === ModelState.Ready && faults >= this.maxFaults) {
      mv.markFailed(
        `its code faulted ${faults} times within ${this.windowMs / 1000} s outside its requests (uncaught exceptions or unhandled rejections); ` +
          'details are in the server log; load it again to bring it back',
      );
      markedFailed = true;
      outcome = `fault ${faults} of ${this.maxFaults} within ${this.windowMs / 1000} s: the model is marked failed (its requests answer 503) and released`;
    } else if (mv.state === ModelState.Ready || mv.state === ModelState.Loading) {
      outcome = `${faults} of ${this.maxFaults} within ${this.windowMs / 1000} s before it is marked failed`;
    } else {
      outcome = `the model is ${mv.state}`;
    }
    const note = markedFailed ? this.forceNote(mv) : this.note(mv);
    if (note !== null) {
      this.logger.error(`model ${mv.label} faulted outside a request (${origin}; ${outcome}; traced by its ${by === 'scope' ? 'scope' : 'module file in the stack'})${note}: ${text}`);
    }
    return { model: mv.label, by, markedFailed };
  }

  /** Adds a fault to the version's record (a new instance, after a reload, starts a new count). */
  private count(mv: ModelVersion): FaultRecord {
    const record = this.record(mv);
    if (record.instance !== mv.instance) {
      record.instance = mv.instance;
      record.times.length = 0;
    }
    const now = this.now();
    record.times.push(now);
    while (record.times.length > 0 && (record.times.length > this.maxFaults || now - record.times[0] >= this.windowMs)) record.times.shift();
    return record;
  }

  private record(key: ModelVersion | 'server'): FaultRecord {
    let record = this.records.get(key);
    if (record === undefined) {
      record = { times: [], instance: null, logged: [], suppressed: 0 };
      this.records.set(key, record);
    }
    return record;
  }

  /**
   * Whether to log this fault (at most maxFaults lines per window for each key): null when not, else a note
   * on the lines left out since the last one.
   */
  private note(key: ModelVersion | 'server'): string | null {
    const record = this.record(key);
    const now = this.now();
    while (record.logged.length > 0 && now - record.logged[0] >= this.windowMs) record.logged.shift();
    if (record.logged.length >= this.maxFaults) {
      record.suppressed++;
      return null;
    }
    record.logged.push(now);
    return this.suppressedNote(record);
  }

  /** The note, and the line logged whatever the limit (the fault that marks a model failed). */
  private forceNote(key: ModelVersion): string {
    const record = this.record(key);
    record.logged.push(this.now());
    return this.suppressedNote(record);
  }

  private suppressedNote(record: FaultRecord): string {
    if (record.suppressed === 0) return '';
    const note = ` (${record.suppressed} more fault(s) were not logged)`;
    record.suppressed = 0;
    return note;
  }

  /**
   * The versions (loaded or not: a failed one's timers may still run) whose module file is in the error's stack;
   * when several share that file, those whose class has a method frame in the stack (`at MyModel.predict`).
   */
  private byStack(err: unknown): ModelVersion[] {
    const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : undefined;
    if (stack === undefined || this.repository === null) return [];
    const found: ModelVersion[] = [];
    for (const mv of this.repository.versions()) {
      const file = mv.config.raw.modulePath;
      if (typeof file === 'string' && file !== '' && stack.includes(file)) found.push(mv);
    }
    if (found.length < 2) return found;
    const byClass = found.filter((mv) => stack.includes(`at ${mv.className}.`) || stack.includes(`at new ${mv.className} `));
    return byClass.length > 0 ? byClass : found;
  }
}

/** A fault as text for the log: its stack (or message), clipped. */
function describe(err: unknown): string {
  if (err instanceof Error) return clip(err.stack ?? `${err.name}: ${err.message}`, MAX_FAULT_TEXT);
  let text: string;
  try {
    text = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    text = String(err);
  }
  return clip(`a non-error value was thrown or rejected: ${text}`, MAX_FAULT_TEXT);
}
