import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import { RequestTracer } from '../tracing/request-tracer';
import { clip } from '../errors/clip.util';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import { DEFAULT_WORKER_KILL_GRACE_MS } from './execution-options.interface';
import { ModelWorker } from './model-worker';
import type { ExecutorTarget, PredictExecutor } from './predict-executor.interface';
import { takeQueueWaits } from './queue-wait.util';
import { RingQueue } from './ring-queue';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.interface';
import { adoptLoadedFacts, partOf, predictMessage, restoreInputs, resultOf, workerInitOf } from './worker-job.util';
import { WorkerPartStream } from './worker-stream';
import { cancelledWhileWaiting, deadlineExceeded, executorClosed, fromErrorFacts, noRunningWorker, queueFull, toErrorFacts, versionLabel, workerCrashed, workerOverran, workerRequestUnsendable } from '../errors';

/** Settings of a {@link WorkerPoolExecutor}. @publicApi */
export interface WorkerPoolOptions {
  /** Number of worker threads (≥ 1). */
  workers: number;
  /** Requests that may wait for a free worker; past it, 503 with `Retry-After`. */
  maxQueue: number;
  /** Also load the model on the main thread (see `loadInMainThread`). */
  loadInMainThread: boolean;
  /**
   * How long a worker may keep running a request past its deadline before it is terminated and replaced, in
   * milliseconds (default {@link DEFAULT_WORKER_KILL_GRACE_MS}; see `workerKillGraceMs`).
   */
  workerKillGraceMs?: number;
}

interface Job {
  /** The stream its parts go to, for a `predictStream` job. */
  parts: WorkerPartStream | null;
  readonly request: InferenceRequest;
  readonly ctx: RequestContext;
  readonly resolve: (result: InferenceResult) => void;
  readonly reject: (err: Error) => void;
  readonly enqueuedAt: number;
  id: number;
  onAbort: (() => void) | null;
  /** Fires `workerKillGraceMs` after the deadline, while the job still runs. */
  overdue: NodeJS.Timeout | null;
  /** The request's trace context (the span `predict` runs under), when traced. */
  readonly trace: Context | undefined;
}

/** How long closing waits for a worker's running request before it ends the thread anyway. */
const DRAIN_TIMEOUT_MS = 30_000;

/** Backoff between attempts to replace a crashed worker whose replacement failed to load. */
const RESTART_DELAYS_MS = [0, 1000, 2000, 5000, 10_000, 30_000];

/**
 * Runs `predict` in N worker threads, each with its own instance of the model (loaded there, one after
 * another). A request goes to a free worker, or waits in a bounded queue; its tensors' buffers move to the
 * worker and back (transferred, not copied). A worker that crashes fails only the request it was running
 * (500) and is replaced; the model stays ready while the others serve. A worker still running a request
 * `workerKillGraceMs` after that request's deadline is terminated (its core freed) and replaced the same way.
 *
 * @publicApi
 */
export class WorkerPoolExecutor implements PredictExecutor {
  readonly loadsModel: boolean;
  private readonly logger: Logger;
  private readonly label: string;
  private readonly init: Omit<WorkerInit, 'index'>;
  private readonly workers: ModelWorker<Job>[] = [];
  private readonly idle: ModelWorker<Job>[] = [];
  private readonly queue: RingQueue<Job>;
  private nextJob = 1;
  private readonly killGraceMs: number;
  private closing = false;
  private restartAttempt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Workers `close` waits on while they finish their last request. */
  private readonly whenIdle = new Map<ModelWorker<Job>, () => void>();
  private readonly tracer = new RequestTracer();

  constructor(
    private readonly target: ExecutorTarget,
    private readonly options: WorkerPoolOptions,
  ) {
    this.label = versionLabel(target.name, target.version);
    this.logger = new Logger(`model ${this.label}`);
    this.loadsModel = !options.loadInMainThread;
    this.queue = new RingQueue(options.maxQueue);
    this.init = workerInitOf(target, this.label, options.workers, this.tracer.on ? this.tracer.contextKind() : false);
    this.killGraceMs = options.workerKillGraceMs ?? DEFAULT_WORKER_KILL_GRACE_MS;
  }

  /** Starts the workers one after another (each loads the model); the first failure stops them all. */
  async start(): Promise<void> {
    for (let i = 1; i <= this.options.workers; i++) {
      const worker = this.spawn(i);
      try {
        const facts = await worker.start();
        if (i === 1) adoptLoadedFacts(this.target.model, facts, this.loadsModel);
      } catch (err) {
        await Promise.all(this.workers.map((w) => w.stop()));
        this.workers.length = 0;
        throw new Error(`worker thread ${i} of ${this.options.workers} could not load the model: ${(err as Error).message}`, { cause: err });
      }
      this.idle.push(worker);
    }
  }

  run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    if (this.closing) return Promise.reject(executorClosed(this.label));
    return new Promise<InferenceResult>((resolve, reject) => {
      this.enqueue({ parts: null, request, ctx, resolve, reject, enqueuedAt: performance.now(), id: 0, onAbort: null, overdue: null, trace: this.tracer.current() });
    });
  }

  /**
   * Runs the model's `predictStream` in a worker thread: the worker is the stream's until it ends, its parts
   * cross the thread boundary as they are produced (at most WORKER_STREAM_CREDIT ahead of the reader).
   * It waits for a free worker like a request does.
   */
  stream(request: InferenceRequest, ctx: RequestContext): AsyncIterable<InferenceResult> {
    const job: Job = {
      parts: null,
      request,
      ctx,
      resolve: () => parts.finish(),
      reject: (err) => parts.fail(err),
      enqueuedAt: performance.now(),
      id: 0,
      onAbort: null,
      overdue: null,
      trace: this.tracer.current(),
    };
    const parts = new WorkerPartStream(
      () => this.post(job, { kind: 'pull', job: job.id }),
      () => this.post(job, { kind: 'abort', job: job.id, reason: 'the stream was closed' }),
    );
    job.parts = parts;
    if (this.closing) parts.fail(executorClosed(this.label));
    else this.enqueue(job);
    return parts;
  }

  /** Tells the worker running `job` something, if it still does. */
  private post(job: Job, message: ToWorker): void {
    for (const w of this.workers) {
      if (w.job === job) {
        if (w.alive) w.post(message);
        return;
      }
    }
  }

  private enqueue(job: Job): void {
    const worker = this.queue.size === 0 ? this.idle.pop() : undefined;
    if (worker !== undefined) {
      this.dispatch(worker, job);
    } else if (!this.queue.push(job)) {
      job.reject(queueFull(this.label, 'worker queue', this.options.maxQueue));
    } else {
      // Start watching for the client going away, so a request nobody waits for any more is dropped, not run.
      void job.ctx.signal;
      this.target.observer.queueDepth(this.target.name, this.target.version, this.queue.size);
    }
  }

  /** Fails waiting requests, lets running ones finish, then unloads and ends every worker. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    for (const job of this.queue.drain()) job.reject(executorClosed(this.label));
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.job !== null) await this.finishing(w);
        await w.stop();
      }),
    );
    this.workers.length = 0;
    this.idle.length = 0;
  }

  /** Waits for a worker's running request, at most {@link DRAIN_TIMEOUT_MS}; then that request fails (503). */
  private finishing(worker: ModelWorker<Job>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.whenIdle.delete(worker);
        const job = worker.job;
        worker.job = null;
        if (job !== null) {
          settle(job);
          job.reject(executorClosed(this.label));
        }
        resolve();
      }, DRAIN_TIMEOUT_MS);
      timer.unref();
      this.whenIdle.set(worker, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private spawn(index: number): ModelWorker<Job> {
    const worker = new ModelWorker<Job>(index, { ...this.init, index }, { message: this.onMessage, crashed: this.onCrash });
    this.workers.push(worker);
    return worker;
  }

  private dispatch(worker: ModelWorker<Job>, job: Job, queued = false): void {
    const { request, ctx } = job;
    if (queued && job.trace !== undefined) this.tracer.queueWait(job.trace, job.enqueuedAt);
    const observer = this.target.observer;
    const waited = performance.now() - job.enqueuedAt;
    const carried = takeQueueWaits(ctx);
    if (carried === undefined) observer.queueWait(this.target.name, this.target.version, waited);
    else for (const w of carried) observer.queueWait(this.target.name, this.target.version, w + waited);
    if (ctx.deadline !== undefined && Date.now() >= ctx.deadline) return this.refuse(worker, job, deadlineExceeded('the wait for a worker thread'));
    if (ctx.aborted) return this.refuse(worker, job, cancelledWhileWaiting('a worker thread'));
    job.id = this.nextJob++;
    worker.job = job;
    try {
      const { message, transfer } = predictMessage(job.id, request, ctx, this.tracer.traceparentOf(job.trace));
      if (job.parts !== null) (message as Extract<ToWorker, { kind: 'predict' }>).stream = true;
      worker.post(message, transfer);
    } catch (err) {
      worker.job = null;
      return this.refuse(
        worker,
        job,
        workerRequestUnsendable(this.label, (err as Error).message),
      );
    }
    // The worker's own context aborts too when this one does (deadline passed, client gone).
    const signal = ctx.signal;
    job.onAbort = () => {
      if (worker.job === job) worker.post({ kind: 'abort', job: job.id, reason: String((signal.reason as Error | undefined)?.message ?? 'aborted') });
    };
    signal.addEventListener('abort', job.onAbort, { once: true });
    if (ctx.deadline !== undefined) {
      job.overdue = setTimeout(this.onOverdue, Math.max(0, ctx.deadline - Date.now()) + this.killGraceMs, worker, job);
      job.overdue.unref();
    }
  }

  /** The job still runs `workerKillGraceMs` after its deadline: its worker does not answer, so it is ended. */
  private readonly onOverdue = (worker: ModelWorker<Job>, job: Job): void => {
    job.overdue = null;
    if (worker.job !== job) return;
    this.logger.warn(
      `worker thread ${worker.index} still runs request ${clip(job.ctx.id)} ${this.killGraceMs} ms after its deadline (workerKillGraceMs): ` +
        'terminating it and starting a replacement',
    );
    worker.kill(`terminated: it still ran request ${clip(job.ctx.id)} ${this.killGraceMs} ms after its deadline`);
  };

  /** Fails a job that never reached the worker, and gives the worker the next one. */
  private refuse(worker: ModelWorker<Job>, job: Job, err: Error): void {
    job.reject(err);
    this.release(worker);
  }

  private readonly onMessage = (worker: ModelWorker<Job>, msg: FromWorker): void => {
    switch (msg.kind) {
      case 'result':
      case 'failed': {
        const job = worker.job;
        if (job === null || job.id !== msg.job) return;
        worker.job = null;
        settle(job);
        restoreInputs(job.request.inputs, msg.returned);
        if (msg.spans !== undefined) this.tracer.replay(job.trace, msg.spans);
        if (msg.kind === 'failed') job.reject(fromErrorFacts(msg.error));
        else job.resolve(resultOf(msg, job.ctx));
        this.release(worker);
        return;
      }
      case 'part': {
        const job = worker.job;
        if (job !== null && job.id === msg.job && job.parts !== null) job.parts.push(partOf(msg));
        return;
      }
      case 'call':
        void this.forwardCall(worker, msg);
        return;
      case 'log':
        this.logger[msg.level](`[worker ${worker.index}] ${msg.message}`);
        return;
      case 'unloaded':
        if (msg.error !== undefined) this.logger.error(`[worker ${worker.index}] unload failed: ${msg.error.message}`);
        return;
    }
  };

  /** `ctx.infer` / `context.infer` from the worker, run here on the request's behalf. */
  private async forwardCall(worker: ModelWorker<Job>, msg: Extract<FromWorker, { kind: 'call' }>): Promise<void> {
    const job = worker.job;
    try {
      const running = msg.job !== 0 && job !== null && job.id === msg.job ? job : null;
      const caller = running !== null ? running.ctx : this.target.model.context;
      // The call continues the request's trace (a child of the span `predict` runs under).
      const response = await (running?.trace === undefined
        ? caller.infer(msg.name, msg.request, msg.options)
        : this.tracer.within(running.trace, () => caller.infer(msg.name, msg.request, msg.options)));
      if (worker.alive) worker.post({ kind: 'call-result', call: msg.call, response });
    } catch (err) {
      if (worker.alive) worker.post({ kind: 'call-result', call: msg.call, error: toErrorFacts(err) });
    }
  }

  /** A worker is free: it takes the next waiting request, or waits for one. */
  private release(worker: ModelWorker<Job>): void {
    const idleWaiter = this.whenIdle.get(worker);
    if (idleWaiter !== undefined) {
      this.whenIdle.delete(worker);
      idleWaiter();
      return;
    }
    if (!worker.alive || this.closing) return;
    const next = this.queue.shift();
    if (next === undefined) {
      this.idle.push(worker);
      return;
    }
    this.target.observer.queueDepth(this.target.name, this.target.version, this.queue.size);
    this.dispatch(worker, next, true);
  }

  private readonly onCrash = (worker: ModelWorker<Job>, reason: string): void => {
    // A worker ended for overrunning its deadline was reported when it was ended.
    if (!worker.killed) this.logger.error(`worker thread ${worker.index} crashed (${reason}); starting a replacement`);
    remove(this.workers, worker);
    remove(this.idle, worker);
    const job = worker.job;
    worker.job = null;
    if (job !== null) {
      settle(job);
      job.reject(worker.killed ? workerOverran(this.label, worker.index, this.killGraceMs) : workerCrashed(this.label, worker.index, reason, job.ctx.id));
    }
    this.whenIdle.get(worker)?.();
    this.whenIdle.delete(worker);
    if (!this.closing) this.replace(worker.index);
  };

  /** Starts a replacement worker; retries with backoff while its load fails. */
  private replace(index: number): void {
    const delay = RESTART_DELAYS_MS[Math.min(this.restartAttempt, RESTART_DELAYS_MS.length - 1)];
    const attempt = async () => {
      this.restartTimer = null;
      if (this.closing) return;
      const worker = this.spawn(index);
      try {
        await worker.start();
        this.restartAttempt = 0;
        if (this.closing) return;
        this.logger.log(`worker thread ${index} replaced`);
        this.release(worker);
      } catch (err) {
        remove(this.workers, worker);
        this.restartAttempt++;
        this.logger.error(`the replacement of worker thread ${index} could not load the model: ${(err as Error).message}`);
        if (this.workers.length === 0) {
          const reason = noRunningWorker(this.label, (err as Error).message);
          for (const job of this.queue.drain()) job.reject(reason);
        }
        if (!this.closing) this.replace(index);
      }
    };
    if (delay === 0) void attempt();
    else {
      this.restartTimer = setTimeout(() => void attempt(), delay);
      this.restartTimer.unref();
    }
  }
}

/** The job is over: stop listening for its abort and its deadline. */
function settle(job: Job): void {
  if (job.onAbort !== null) job.ctx.signal.removeEventListener('abort', job.onAbort);
  if (job.overdue !== null) {
    clearTimeout(job.overdue);
    job.overdue = null;
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
