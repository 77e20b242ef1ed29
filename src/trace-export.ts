import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { extname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { spawnWorkerThread } from '../libs/model-server/src/internal';
import { TRACE_FORMATS, type ExportReply, type ExportRequest, type TraceExportInit } from './trace-export.format';

/** `T` without `id`, each member of a union apart. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A request to the export thread before it has its id. */
type Ask = WithoutId<ExportRequest>;

/**
 * The CLI's OTLP/HTTP span exporter: it encodes each batch here (OTLP/JSON or OTLP/protobuf, as the SDK's
 * exporters do) and hands the bytes to a thread of its own that posts them. Exporting in the server's thread made
 * its HTTP client run the same functions of Node's `http` module as the server's requests, with objects of other
 * shapes, and those functions then ran slower for every request (about 10k instructions a request at 1% sampled,
 * docs/observability.md). The thread starts with {@link start} (the CLI starts it with the SDK, before the server
 * serves) or else with the first batch, and keeps the process alive only while it has work; a thread that dies fails
 * its batches (as a collector that is down would) and the next batch starts another.
 */
export class ThreadSpanExporter implements SpanExporter {
  private thread: Worker | null = null;
  private readonly waiting = new Map<number, (error: Error | undefined) => void>();
  private lastId = 0;
  private stopped = false;

  constructor(private readonly init: TraceExportInit) {}

  /**
   * Starts the export thread now, if it is not running. Loading the OTLP transport in it takes about 150 ms of CPU:
   * started with the first batch, that lands on requests in flight, and on one core they wait for it.
   */
  start(): this {
    if (!this.stopped && this.thread === null) this.spawn();
    return this;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.stopped) return done({ code: ExportResultCode.FAILED, error: new Error('the trace exporter is shut down') });
    let bytes: Uint8Array | undefined;
    try {
      bytes = TRACE_FORMATS[this.init.protocol].serializer.serializeRequest(spans);
    } catch (err) {
      return done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
    if (bytes === undefined) return done({ code: ExportResultCode.FAILED, error: new Error('the spans could not be encoded') });
    this.ask({ kind: 'export', bytes, spans: spans.length }, (error) => done(error === undefined ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error }));
  }

  /** Waits until the batches handed over so far are sent (or have failed). */
  forceFlush(): Promise<void> {
    if (this.thread === null) return Promise.resolve();
    return new Promise((resolve) => this.ask({ kind: 'flush' }, () => resolve()));
  }

  /** Sends what is in flight, then stops the thread; later batches fail at once. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const thread = this.thread;
    if (thread === null) return;
    await new Promise<void>((resolve) => this.ask({ kind: 'shutdown' }, () => resolve()));
    await thread.terminate();
  }

  private ask(request: Ask, answered: (error: Error | undefined) => void): void {
    const thread = this.thread ?? this.spawn();
    const id = ++this.lastId;
    this.waiting.set(id, answered);
    // The thread keeps the process alive only while something waits for it (a batch at shutdown is sent).
    if (this.waiting.size === 1) thread.ref();
    thread.postMessage({ ...request, id } as ExportRequest);
  }

  private spawn(): Worker {
    const thread = spawnWorkerThread(join(__dirname, `trace-export.worker${extname(__filename)}`), { ...this.init });
    thread.unref();
    thread.on('message', (reply: ExportReply) => {
      const answered = this.waiting.get(reply.id);
      if (answered === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) thread.unref();
      answered(reply.error === undefined ? undefined : new Error(reply.error));
    });
    thread.on('error', (err) => diag.error('the trace export thread failed', err));
    thread.on('exit', () => {
      if (this.thread === thread) this.thread = null;
      const gone = new Error('the trace export thread stopped');
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      for (const answered of waiting) answered(gone);
    });
    this.thread = thread;
    return thread;
  }
}
