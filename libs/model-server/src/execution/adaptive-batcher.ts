import { Logger } from '@nestjs/common';
import type { Context, Span } from '@opentelemetry/api';
import type { InferenceResponse } from '../model/inference.interface';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { ModelCallOptions, ModelCallRequest } from '../model/model-caller.interface';
import { RequestContext } from '../model/request-context';
import { SYSTEM_CLOCK, type BatchClock } from './batch-clock.interface';
import { batchKey, mergeableRows, mergeRequests, splitResult } from './batch-merge.util';
import { runAsPromise, type ExecutorTarget, type PredictExecutor } from './predict-executor.interface';
import { carryQueueWaits } from './queue-wait.util';
import { WorkerPoolExecutor } from './worker-pool.executor';
import { RequestTracer } from '../tracing/request-tracer';
import { cancelledWhileWaiting, deadlineExceeded, executorClosed, isModelFailure, queueFull, versionLabel } from '../errors';

/** Settings of an {@link AdaptiveBatcher}. @publicApi */
export interface AdaptiveBatcherOptions {
  /** Most requests merged into one `predict` call (≥ 2 to batch at all). */
  maxBatchSize: number;
  /** How long a batch may wait for more requests after its first one arrived, in milliseconds. */
  maxLatencyMs: number;
  /** Most requests waiting in open batches; past it, 503 with `Retry-After`. */
  maxQueue: number;
  /** Time source (default: the system's); tests pass a manual one. */
  clock?: BatchClock;
}

interface Member {
  readonly request: InferenceRequest;
  readonly ctx: RequestContext;
  readonly rows: number;
  readonly arrivedAt: number;
  readonly resolve: (result: InferenceResult) => void;
  readonly reject: (err: unknown) => void;
  /** The request's trace context (its `predict` span) when traced. */
  readonly trace: Context | undefined;
  /** Its `queue wait` span, open until its batch goes, when traced. */
  readonly queued: Span | null;
}

interface OpenBatch {
  readonly key: string;
  readonly members: Member[];
  timer: unknown;
}

/** How often (ms) a model may log that a failed batch is being rerun request by request. */
const RERUN_WARNING_INTERVAL_MS = 60_000;

/**
 * The context `predict` gets for a merged batch: the first request's id, headers and depth, an empty `state`,
 * and a deadline that cuts no request short: the latest of its requests' deadlines, or none when one of them has
 * none. Each request keeps its own deadline (its client gets its 504 on time while the others get their rows);
 * the batch's signal fires once every request of it has been aborted. `ctx.infer` calls on behalf of the first
 * request. Metrics and statistics it records go to every request of the batch.
 */
class BatchContext extends RequestContext {
  private live: number;

  constructor(
    private readonly lead: RequestContext,
    deadline: number | undefined,
    members: readonly Member[],
  ) {
    super(lead.id, lead.op, deadline, lead.headers, lead.depth);
    this.live = members.length;
    for (const m of members) m.ctx.signal.addEventListener('abort', this.memberAborted, { once: true });
  }

  private readonly memberAborted = (): void => {
    if (--this.live === 0) this.abort('every request of the batch was aborted (deadlines passed or clients went away)');
  };

  /** Stops listening to the requests' signals (the batch is done). */
  detach(members: readonly Member[]): void {
    for (const m of members) m.ctx.signal.removeEventListener('abort', this.memberAborted);
  }

  override infer(name: string, request: ModelCallRequest, options?: ModelCallOptions): Promise<InferenceResponse> {
    return this.lead.infer(name, request, options);
  }
}

/**
 * Adaptive batching in front of another executor (in process or worker threads). Compatible requests
 * (same input names, datatypes and trailing dimensions, same parameters and requested outputs) wait in one
 * open batch, which goes to `predict` when it holds `maxBatchSize` requests or when its one absolute
 * deadline (`maxLatencyMs` after its first request) passes, whichever comes first. Inputs are concatenated
 * along the first dimension; every output must have the batch's total rows as its first dimension, and each
 * request gets its own rows back. A request that cannot be merged runs alone, at once. When `predict` fails
 * on a merged batch, its requests are run one by one, so each gets its own result or its own error.
 * Requests whose deadline passed (or whose client went away) while they waited are left out of the batch.
 *
 * @publicApi
 */
export class AdaptiveBatcher implements PredictExecutor {
  private readonly open = new Map<string, OpenBatch>();
  private readonly running = new Set<Promise<void>>();
  private readonly clock: BatchClock;
  private readonly label: string;
  private readonly logger: Logger;
  private waiting = 0;
  private closing = false;
  private lastRerunWarning = -Infinity;
  private readonly tracer = new RequestTracer();
  /** Streams are not batched: they go to the executor underneath (worker threads) when it streams. */
  readonly stream: PredictExecutor['stream'];

  constructor(
    private readonly inner: PredictExecutor,
    private readonly target: ExecutorTarget,
    private readonly options: AdaptiveBatcherOptions,
  ) {
    this.stream = inner.stream === undefined ? undefined : (request, ctx) => inner.stream!(request, ctx);
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.label = versionLabel(target.name, target.version);
    this.logger = new Logger(`model ${this.label}`);
  }

  get loadsModel(): boolean {
    return this.inner.loadsModel === true;
  }

  async start(): Promise<void> {
    if (this.inner.start !== undefined) await this.inner.start();
  }

  run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    if (this.closing) return Promise.reject(executorClosed(this.label));
    const rows = mergeableRows(request);
    if (rows < 0) return runAsPromise(this.inner, request, ctx);
    if (this.waiting >= this.options.maxQueue) return Promise.reject(queueFull(this.label, 'batch queue', this.options.maxQueue));
    const key = batchKey(request);
    return new Promise<InferenceResult>((resolve, reject) => {
      let batch = this.open.get(key);
      if (batch === undefined) {
        batch = { key, members: [], timer: undefined };
        this.open.set(key, batch);
        batch.timer = this.clock.schedule(this.deadlineOf(batch), this.options.maxLatencyMs);
      }
      const trace = this.tracer.current();
      const queued = trace === undefined ? null : this.tracer.startQueueWait(trace);
      batch.members.push({ request, ctx, rows, arrivedAt: this.clock.now(), resolve, reject, trace, queued });
      this.waiting++;
      this.target.observer.queueDepth(this.target.name, this.target.version, this.waiting);
      if (batch.members.length >= this.options.maxBatchSize) {
        this.clock.clear(batch.timer);
        this.flush(batch);
      }
    });
  }

  /** Sends every open batch now, waits for the running ones, then closes the executor behind. */
  async close(): Promise<void> {
    this.closing = true;
    for (const batch of [...this.open.values()]) {
      this.clock.clear(batch.timer);
      this.flush(batch);
    }
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.inner.close();
  }

  /** The batch's one timer: fires once, at its absolute deadline. */
  private deadlineOf(batch: OpenBatch): () => void {
    return () => {
      if (this.open.get(batch.key) === batch) this.flush(batch);
    };
  }

  private flush(batch: OpenBatch): void {
    this.open.delete(batch.key);
    this.waiting -= batch.members.length;
    const { name, version, observer } = this.target;
    observer.queueDepth(name, version, this.waiting);
    for (const m of batch.members) if (m.queued !== null) m.queued.end();
    const members = stillWanted(batch.members);
    if (members.length === 0) return;
    const now = this.clock.now();
    observer.batch(name, version, members.length);
    const waits = members.map((m) => now - m.arrivedAt);
    // A worker pool behind reports each request's whole wait (this window + the wait for a worker).
    const carry = this.inner instanceof WorkerPoolExecutor;
    if (!carry) for (const w of waits) observer.queueWait(name, version, w);
    const done = members.length === 1 ? this.runAlone(members[0], carry ? waits : null) : this.runMerged(members, carry ? waits : null);
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  private runAlone(m: Member, waits: readonly number[] | null = null): Promise<void> {
    if (waits !== null) carryQueueWaits(m.ctx, waits);
    const run = m.trace === undefined ? runAsPromise(this.inner, m.request, m.ctx) : this.tracer.within(m.trace, runAsPromise, this.inner, m.request, m.ctx);
    return run.then(m.resolve, m.reject);
  }

  private async runMerged(members: Member[], waits: readonly number[] | null): Promise<void> {
    const rows = members.map((m) => m.rows);
    const ctx = new BatchContext(members[0].ctx, latestDeadline(members), members);
    if (waits !== null) carryQueueWaits(ctx, waits);
    const traced = this.tracer.on ? this.tracer.startBatch(members.map((m) => m.trace)) : undefined;
    let result: InferenceResult;
    try {
      const merged = mergeRequests(
        members.map((m) => m.request),
        rows,
        members[0].request.id,
      );
      result = await (traced === undefined ? this.inner.run(merged, ctx) : this.tracer.within(traced.context, () => this.inner.run(merged, ctx)));
      if (traced !== undefined) this.tracer.end(traced.span);
    } catch (err) {
      if (traced !== undefined) this.tracer.end(traced.span, err);
      ctx.detach(members);
      if (!isModelFailure(err)) {
        for (const m of members) m.reject(err);
        return;
      }
      this.warnRerun(members.length, err);
      await Promise.all(members.map((m) => this.runAlone(m)));
      return;
    }
    ctx.detach(members);
    let parts: InferenceResult[];
    try {
      parts = splitResult(result, rows, this.label);
    } catch (err) {
      for (const m of members) m.reject(err);
      return;
    }
    for (let i = 0; i < members.length; i++) {
      const memberCtx = members[i].ctx;
      if (ctx.metrics !== null) for (const key of Object.keys(ctx.metrics)) memberCtx.setMetric(key, ctx.metrics[key]);
      if (ctx.statistics !== null) memberCtx.addStatistics(ctx.statistics);
      members[i].resolve(parts[i]);
    }
  }

  private warnRerun(size: number, err: unknown): void {
    const now = this.clock.now();
    if (now - this.lastRerunWarning < RERUN_WARNING_INTERVAL_MS) return;
    this.lastRerunWarning = now;
    this.logger.warn(
      `a batch of ${size} requests failed (${err instanceof Error ? err.message : String(err)}); running them one by one ` +
        'so each gets its own answer (logged at most once a minute)',
    );
  }
}

/**
 * The members still worth running: one whose deadline passed or whose client went away while it waited is
 * refused (its client already has its answer) and left out, so it neither runs nor cuts the others short.
 */
function stillWanted(members: Member[]): Member[] {
  const now = Date.now();
  let kept: Member[] | null = null;
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const expired = m.ctx.deadline !== undefined && now >= m.ctx.deadline;
    if (!expired && !m.ctx.aborted) {
      if (kept !== null) kept.push(m);
      continue;
    }
    kept ??= members.slice(0, i);
    m.reject(expired ? deadlineExceeded('the wait for a batch') : cancelledWhileWaiting('a batch'));
  }
  return kept ?? members;
}

/** The latest deadline of the members, or undefined when one of them has none. */
function latestDeadline(members: readonly Member[]): number | undefined {
  let deadline = 0;
  for (const m of members) {
    if (m.ctx.deadline === undefined) return undefined;
    if (m.ctx.deadline > deadline) deadline = m.ctx.deadline;
  }
  return deadline;
}
