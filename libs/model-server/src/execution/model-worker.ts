import type { Worker } from 'node:worker_threads';
import type { FromWorker, LoadedFacts, ToWorker, WorkerInit } from './worker-messages.interface';
import { spawnModelWorker } from './worker-spawn.util';
import { fromErrorFacts } from '../errors';

/** How long a worker may take to run the model's `unload` before it is terminated anyway. */
const UNLOAD_TIMEOUT_MS = 10_000;

/** What a {@link ModelWorker} tells its pool. @internal */
export interface ModelWorkerEvents<J> {
  /** A message other than the load handshake. */
  message(worker: ModelWorker<J>, msg: FromWorker): void;
  /** The thread stopped without being asked to, after it had loaded. */
  crashed(worker: ModelWorker<J>, reason: string): void;
}

/**
 * One worker thread of a pool, seen from the main thread: starts it and waits for its model to load,
 * sends it messages, notices when it dies, stops it (the model's `unload` first).
 *
 * @internal
 */
export class ModelWorker<J> {
  /** The request (or batch) it runs now, if any. */
  job: J | null = null;
  private readonly thread: Worker;
  private loaded = false;
  private stopping = false;
  private exited = false;
  private lastError: Error | undefined;
  private killedFor: string | null = null;
  private readonly started: Promise<LoadedFacts>;
  private unloaded: (() => void) | null = null;

  constructor(
    readonly index: number,
    init: WorkerInit,
    private readonly events: ModelWorkerEvents<J>,
  ) {
    this.thread = spawnModelWorker(init);
    this.started = new Promise<LoadedFacts>((resolve, reject) => {
      this.thread.on('message', (msg: FromWorker) => {
        if (msg.kind === 'ready') {
          this.loaded = true;
          resolve(msg.facts);
        } else if (msg.kind === 'load-failed') {
          reject(fromErrorFacts(msg.error));
        } else if (msg.kind === 'unloaded') {
          if (msg.error !== undefined) this.events.message(this, msg);
          this.unloaded?.();
        } else {
          this.events.message(this, msg);
        }
      });
      this.thread.on('error', (err: Error) => {
        this.lastError = err;
      });
      this.thread.on('exit', (code: number) => {
        this.exited = true;
        this.unloaded?.();
        const reason = this.killedFor ?? (this.lastError !== undefined ? this.lastError.message : `the thread exited with code ${code}`);
        if (!this.loaded) reject(new Error(`the worker thread stopped while loading the model: ${reason}`));
        else if (!this.stopping) this.events.crashed(this, reason);
      });
    });
    // A failed start is reported through start(); keep it from counting as unhandled meanwhile.
    this.started.catch(() => undefined);
  }

  /** Resolves with the loaded model's facts once the worker's `load` succeeded. */
  start(): Promise<LoadedFacts> {
    return this.started;
  }

  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  /** True once {@link kill} ended the thread (or is ending it). */
  get killed(): boolean {
    return this.killedFor !== null;
  }

  /**
   * Ends the thread at once, without the model's `unload`: for a thread that does not answer (stuck in a loop).
   * Its CPU is released; the pool hears of it as a crash, with `reason`.
   */
  kill(reason: string): void {
    if (this.exited || this.stopping || this.killedFor !== null) return;
    this.killedFor = reason;
    void this.thread.terminate();
  }

  /** Sends a message (buffers in `transfer` move to the worker); throws when it cannot be cloned. */
  post(msg: ToWorker, transfer?: ArrayBuffer[]): void {
    this.thread.postMessage(msg, transfer);
  }

  /** Runs the model's `unload` in the worker (bounded in time), then ends the thread. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.loaded && !this.exited) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, UNLOAD_TIMEOUT_MS);
        timer.unref();
        this.unloaded = () => {
          clearTimeout(timer);
          resolve();
        };
        try {
          this.post({ kind: 'unload' });
        } catch {
          resolve();
        }
      });
    }
    await this.thread.terminate();
  }
}
