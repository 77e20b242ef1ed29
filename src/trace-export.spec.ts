import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { ThreadSpanExporter } from './trace-export';

/** An OTLP/HTTP receiver on loopback answering every POST with `status`. */
async function receiver(status = 200): Promise<{ url: string; posts: { path: string; contentType: string; body: Buffer }[]; server: Server }> {
  const posts: { path: string; contentType: string; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, posts, server };
}

/** Two ended spans, a parent and its child. */
function spans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('test');
  const parent = tracer.startSpan('infer iris');
  tracer.startSpan('predict', undefined, trace.setSpan(ROOT_CONTEXT, parent)).end();
  parent.end();
  return memory.getFinishedSpans();
}

const exported = (exporter: ThreadSpanExporter, batch: ReadableSpan[]): Promise<ExportResult> => new Promise((resolve) => exporter.export(batch, resolve));

describe('ThreadSpanExporter (OTLP/HTTP posted from a thread of its own)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  it.each([
    ['http/json', 'application/json'],
    ['http/protobuf', 'application/x-protobuf'],
  ] as const)('posts each batch as %s, and reports success', async (protocol, contentType) => {
    const sink = await receiver();
    servers.push(sink.server);
    const exporter = new ThreadSpanExporter({ protocol, url: sink.url });
    const batch = spans();
    expect(await exported(exporter, batch)).toEqual({ code: ExportResultCode.SUCCESS });
    await exporter.shutdown();
    expect(sink.posts.map((p) => [p.path, p.contentType])).toEqual([['/v1/traces', contentType]]);
    if (protocol === 'http/json') {
      const doc = JSON.parse(sink.posts[0].body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] };
      const sent = doc.resourceSpans[0].scopeSpans[0].spans;
      expect(sent.map((s) => s.name)).toEqual(['predict', 'infer iris']);
      expect(sent[0].traceId).toBe(batch[0].spanContext().traceId);
    } else {
      // The protobuf message holds the span names as they are.
      expect(sink.posts[0].body.includes(Buffer.from('infer iris'))).toBe(true);
    }
  }, 20000);

  it('reports a collector that refuses the batch as a failure, without throwing', async () => {
    const sink = await receiver(400);
    servers.push(sink.server);
    const exporter = new ThreadSpanExporter({ protocol: 'http/json', url: sink.url });
    const result = await exported(exporter, spans());
    await exporter.shutdown();
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toBe('Bad Request');
    expect(sink.posts).toHaveLength(1);
  }, 20000);

  it('sends nothing after shutdown; one that never exported flushes and shuts down at once', async () => {
    const sink = await receiver();
    servers.push(sink.server);
    const idle = new ThreadSpanExporter({ protocol: 'http/json', url: sink.url });
    await idle.forceFlush();
    await idle.shutdown();
    const exporter = new ThreadSpanExporter({ protocol: 'http/json', url: sink.url });
    expect((await exported(exporter, spans())).code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const late = await exported(exporter, spans());
    expect(late.code).toBe(ExportResultCode.FAILED);
    expect(late.error?.message).toMatch(/shut down/);
    expect(sink.posts).toHaveLength(1);
  }, 20000);

  it('starts its thread on start(), before any batch, and posts the first batch from it; not after shutdown', async () => {
    const sink = await receiver();
    servers.push(sink.server);
    const threadOf = (e: ThreadSpanExporter) => (e as unknown as { thread: Worker | null }).thread;
    const exporter = new ThreadSpanExporter({ protocol: 'http/json', url: sink.url });
    expect(threadOf(exporter)).toBeNull();
    const started = threadOf(exporter.start());
    expect(started).not.toBeNull();
    await new Promise((resolve) => started!.once('online', resolve));
    expect(threadOf(exporter.start())).toBe(started);
    expect(await exported(exporter, spans())).toEqual({ code: ExportResultCode.SUCCESS });
    expect(threadOf(exporter)).toBe(started);
    expect(sink.posts).toHaveLength(1);
    await exporter.shutdown();
    // No new thread: the stopped one, or none once its exit is seen.
    expect([null, started]).toContain(threadOf(exporter.start()));
  }, 20000);

  it('fails the batches of a thread that dies, and starts another for the next batch', async () => {
    // The first post is held unanswered, so its batch is still waiting when the thread goes.
    let held: ServerResponse | undefined;
    let posts = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts++;
        if (posts === 1) held = res;
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const exporter = new ThreadSpanExporter({ protocol: 'http/json', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces` });
    const pending = exported(exporter, spans());
    while (held === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    const first = (exporter as unknown as { thread: Worker }).thread;
    await first.terminate();
    const lost = await pending;
    expect(lost.code).toBe(ExportResultCode.FAILED);
    expect(lost.error?.message).toBe('the trace export thread stopped');
    expect(await exported(exporter, spans())).toEqual({ code: ExportResultCode.SUCCESS });
    expect((exporter as unknown as { thread: Worker }).thread).not.toBe(first);
    await exporter.shutdown();
    held.destroy();
    expect(posts).toBe(2);
  }, 20000);
});
