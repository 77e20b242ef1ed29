import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, send, startCli, stopCli, type CliProcess } from './helpers/cli-process';

/** One span as OTLP/JSON carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}

interface Received {
  contentType: string;
  body: Buffer;
}

/** An OTLP/HTTP receiver on loopback: keeps every POST to /v1/traces. */
class OtlpReceiver {
  readonly posts: Received[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') this.posts.push({ contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
        res.end(String(req.headers['content-type']).includes('json') ? '{}' : '');
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every span received as OTLP/JSON, with its resource's attributes. */
  spans(): { span: OtlpSpan; resource: Record<string, unknown> }[] {
    const out: { span: OtlpSpan; resource: Record<string, unknown> }[] = [];
    for (const post of this.posts) {
      if (!post.contentType.includes('json')) continue;
      const doc = JSON.parse(post.body.toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of doc.resourceSpans) {
        const resource = attributes(rs.resource.attributes);
        for (const ss of rs.scopeSpans) for (const span of ss.spans) out.push({ span, resource });
      }
    }
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function attributes(list: OtlpSpan['attributes']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = Object.values(a.value)[0];
  return out;
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const OTHER_TRACE = '5b8efff798038103d269b633813fc60c';
const WORKER_MODELS = join(__dirname, 'fixtures', 'worker-models.ts');

/** A router over a batched member and a member in a worker thread. */
function writeConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracing-cli-'));
  const file = join(dir, 'models.json');
  const models = [
    { name: 'batched', module: WORKER_MODELS, class: 'ThreadedDoubler', maxBatchSize: 2, maxLatencyMs: 2000 },
    { name: 'threaded', module: WORKER_MODELS, class: 'ThreadedDoubler', workers: 1 },
    { name: 'router', router: 'ParallelRun', parameters: { members: ['batched', 'threaded'], merge: 'prefix' } },
    { name: 'spanning', module: WORKER_MODELS, class: 'SpanningModel' },
    { name: 'spanning-threaded', module: WORKER_MODELS, class: 'SpanningModel', workers: 1 },
  ];
  writeFileSync(file, JSON.stringify({ models }));
  return file;
}

const request = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });

function infer(cli: CliProcess, model: string, traceparent?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (traceparent !== undefined) headers.traceparent = traceparent;
  return send(cli.port, `/v2/models/${model}/infer`, { headers, body: request });
}

describe('tracing through the CLI (OTLP/HTTP to a receiver on loopback)', () => {
  const config = writeConfig();
  let receiver: OtlpReceiver;
  let endpoint: string;

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    endpoint = await receiver.listen();
  });

  afterAll(() => receiver.close());

  it("sends a router request's spans: one trace, the stages, the members under the router, the batch's links, the worker's spans", async () => {
    const cli = await startCli(['--config', config], {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'tracing-e2e',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    let exit: number | null;
    try {
      // Two router requests at once: the batched member serves them in one batch.
      const [mine, other] = await Promise.all([
        infer(cli, 'router', `00-${TRACE_ID}-${CALLER_SPAN}-01`),
        infer(cli, 'router', `00-${OTHER_TRACE}-${CALLER_SPAN}-01`),
      ]);
      expect([mine.status, other.status]).toEqual([200, 200]);
      expect(mine.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    } finally {
      // The spans are still queued (the batch processor sends every 5 s): shutdown sends them.
      exit = await stopCli(cli);
    }
    expect(exit).toBe(0);
    const received = receiver.spans();
    const all = received.map((r) => r.span);
    const mine = all.filter((s) => s.traceId === TRACE_ID);
    const byId = new Map(mine.map((s) => [s.spanId, s]));
    const children = (parent: OtlpSpan) => mine.filter((s) => s.parentSpanId === parent.spanId);
    const one = (list: OtlpSpan[], name: string) => {
      const found = list.filter((s) => s.name === name);
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0];
    };

    expect(received.find((r) => r.span.traceId === TRACE_ID)?.resource).toMatchObject({ 'service.name': 'tracing-e2e', 'deployment.environment.name': 'test' });
    const server = one(mine, 'POST /v2/models/:model/infer');
    expect(server.parentSpanId).toBe(CALLER_SPAN);
    expect(server.kind).toBe(2); // SERVER
    expect(attributes(server.attributes)).toMatchObject({ 'http.response.status_code': 200, 'inference.model.name': 'router' });
    expect(children(server).map((s) => s.name)).toEqual(['decode', 'predict', 'encode']);
    const routerPredict = one(children(server), 'predict');
    const batchedCall = one(children(routerPredict), 'infer batched');
    const threadedCall = one(children(routerPredict), 'infer threaded');
    // The members' stages (ThreadedDoubler has a preprocess hook).
    expect(children(batchedCall).map((s) => s.name)).toEqual(['decode', 'preprocess', 'predict', 'encode']);
    expect(children(threadedCall).map((s) => s.name)).toEqual(['decode', 'preprocess', 'predict', 'encode']);

    // The batched member: the request's wait in the batch queue, and the batch's predict linking both requests.
    const batchedPredict = one(children(batchedCall), 'predict');
    expect(children(batchedPredict).map((s) => s.name)).toContain('queue wait');
    const batch = all.find((s) => s.name === 'batch predict');
    expect(batch).toBeDefined();
    expect(batch!.links?.map((l) => l.traceId).sort()).toEqual([TRACE_ID, OTHER_TRACE].sort());
    expect(batch!.links?.some((l) => l.spanId === batchedPredict.spanId)).toBe(true);

    // The worker thread's spans are in the same trace, under the member's predict.
    const threadedPredict = one(children(threadedCall), 'predict');
    const worker = one(children(threadedPredict), 'worker predict');
    expect(worker.traceId).toBe(TRACE_ID);
    // Every span of the trace hangs off the server span (none is orphaned).
    for (const s of mine) {
      if (s === server) continue;
      let up: OtlpSpan | undefined = s;
      while (up !== undefined && up !== server) up = byId.get(up.parentSpanId ?? '');
      expect({ span: s.name, reachesServer: up === server }).toEqual({ span: s.name, reachesServer: true });
    }
  }, 60000);

  it.each(['auto', 'promise', 'async-local-storage'])(
    "nests model code's own spans, opened after an await, under its stage (TRACING_CONTEXT=%s), in the main thread and in a worker",
    async (tracingContext) => {
      receiver.posts.length = 0;
      const cli = await startCli(['--config', config], {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        TRACING_CONTEXT: tracingContext,
      });
      let exit: number | null;
      try {
        // Concurrent requests: each one's spans must stay in its own trace.
        const traces = ['1', '2', '3'].map((d) => d.repeat(32));
        const answers = await Promise.all(traces.flatMap((t) => [infer(cli, 'spanning', `00-${t}-${CALLER_SPAN}-01`), infer(cli, 'spanning-threaded', `00-${t}-${CALLER_SPAN}-01`)]));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
        // A request nobody sampled: the model's span is not sampled either (no trace of its own appears).
        expect((await infer(cli, 'spanning', `00-${'4'.repeat(32)}-${CALLER_SPAN}-00`)).status).toBe(200);
      } finally {
        exit = await stopCli(cli);
      }
      expect(exit).toBe(0);
      const all = receiver.spans().map((r) => r.span);
      const byId = new Map(all.map((s) => [s.spanId, s]));
      const lookups = all.filter((s) => s.name === 'model lookup');
      // One per sampled request (three traces, two models): none for the unsampled one, none as a root of its own.
      expect(lookups).toHaveLength(6);
      for (const lookup of lookups) {
        const parent = byId.get(lookup.parentSpanId ?? '');
        expect(parent?.traceId).toBe(lookup.traceId);
        expect(['predict', 'worker predict']).toContain(parent?.name);
      }
      expect(lookups.filter((s) => byId.get(s.parentSpanId ?? '')?.name === 'worker predict')).toHaveLength(3);
      expect(new Set(lookups.map((s) => s.traceId))).toEqual(new Set(['1', '2', '3'].map((d) => d.repeat(32))));
    },
    60000,
  );

  it('samples new traces by their id (parentbased_traceidratio): a kept one is exported whole, a dropped one not at all', async () => {
    receiver.posts.length = 0;
    const cli = await startCli(['--config', config], {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
    });
    const kept: string[] = [];
    const dropped: string[] = [];
    // A traceparent the server cannot read continues nothing: the request starts a new trace, decided like any other.
    const unreadable = [undefined, 'not-a-traceparent', `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`, `ff-${'1'.repeat(32)}-${'1'.repeat(16)}-01`, 'x'.repeat(4000)];
    try {
      for (let i = 0; i < 40; i++) {
        const answer = await infer(cli, 'spanning', unreadable[i % unreadable.length]);
        expect(answer.status).toBe(200);
        expect(String(answer.headers.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
        const [, traceId, , flags] = String(answer.headers.traceparent).split('-');
        expect(traceId).not.toBe('0'.repeat(32));
        expect(traceId).not.toBe('1'.repeat(32));
        (flags === '01' ? kept : dropped).push(traceId);
      }
    } finally {
      expect(await stopCli(cli)).toBe(0);
    }
    // Forty draws at one half: both kinds (all of one kind has a chance of 2^-39), every trace a new one.
    expect(new Set([...kept, ...dropped]).size).toBe(40);
    expect(kept.length).toBeGreaterThan(0);
    expect(dropped.length).toBeGreaterThan(0);
    const spans = receiver.spans().map((r) => r.span);
    const byTrace = (id: string) => spans.filter((s) => s.traceId === id).map((s) => s.name);
    for (const id of kept) expect(byTrace(id)).toEqual(expect.arrayContaining(['POST /v2/models/:model/infer', 'predict', 'model lookup']));
    for (const id of dropped) expect(byTrace(id)).toEqual([]);
    // Nothing else: the model's spans in dropped requests start no trace of their own.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(kept));
  }, 60000);

  it('sends OTLP/protobuf when asked', async () => {
    receiver.posts.length = 0;
    const cli = await startCli(['--config', config], {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    });
    try {
      expect((await infer(cli, 'threaded', `00-${TRACE_ID}-${CALLER_SPAN}-01`)).status).toBe(200);
    } finally {
      expect(await stopCli(cli)).toBe(0);
    }
    const proto = receiver.posts.filter((p) => p.contentType === 'application/x-protobuf');
    expect(proto.length).toBeGreaterThan(0);
    expect(proto.some((p) => p.body.includes(Buffer.from(TRACE_ID, 'hex')))).toBe(true);
  }, 60000);

  it('never fails or slows requests when the collector does not answer, and still stops in time', async () => {
    // A collector that takes connections and never answers: the worst case for an exporter.
    const sockets: Socket[] = [];
    const blackHole: TcpServer = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const cli = await startCli(['--config', config], {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16',
    });
    try {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const answer = await infer(cli, 'threaded', `00-${TRACE_ID}-${CALLER_SPAN}-01`);
        expect(answer.status).toBe(200);
        times.push(answer.ms);
      }
      times.sort((a, b) => a - b);
      // Spans past the queue's 64 are dropped; nothing waits for the exporter (a generous bound for a shared machine).
      expect(times[Math.floor(times.length * 0.95)]).toBeLessThan(250);
    } finally {
      const started = Date.now();
      const exit = await stopCli(cli, 20000);
      expect(exit).toBe(0);
      // The flush at shutdown gives up on the collector after 5 s.
      expect(Date.now() - started).toBeLessThan(12000);
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  }, 90000);

  it('refuses a protocol it cannot send at startup, naming the setting', async () => {
    const port = await freePort();
    await expect(startCli(['--config', config], { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', PORT: String(port) }, 15000)).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.*http\/protobuf or http\/json.*'grpc'/,
    );
  }, 30000);
});
