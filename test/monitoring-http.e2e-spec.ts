import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServerModule, type ModelConfig } from 'nest-model-server';
import {
  ModelServerMonitoringModule,
  RecordPipeline,
  type ModelServerMonitoringOptions,
} from 'nest-model-server/monitoring';
import { BuggyFixture, EchoFixture } from './fixtures/test-models';
import { send } from './helpers/test-app';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver (127.0.0.1, port 0) that answers each POST as `answer` says. */
class Receiver {
  readonly received: Received[] = [];
  attempts = 0;
  private readonly hanging: ServerResponse[] = [];
  private server!: Server;
  constructor(private answer: (attempt: number) => number | 'hang' = () => 200) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = this.answer(++this.attempts);
        if (status === 'hang') {
          this.hanging.push(res);
          return;
        }
        if (status >= 200 && status < 300) this.received.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function monitoredApp(models: ModelConfig[], monitoring: ModelServerMonitoringOptions): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot({ models }), ModelServerMonitoringModule.forRoot({ processMetrics: false, ...monitoring })],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  return app;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KSERVE_HEADERS = [
  'ce-specversion',
  'ce-id',
  'ce-type',
  'ce-source',
  'ce-time',
  'content-type',
  'ce-inferenceservicename',
  'ce-namespace',
  'ce-component',
  'ce-endpoint',
  'ce-metadata',
  'ce-recordedtime',
];
const fp32 = (id: string, data: number[]) => ({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [data.length], data }] });
const models: ModelConfig[] = [
  { name: 'echo', model: EchoFixture, versions: [{ version: '1' }] },
  { name: 'buggy', model: BuggyFixture },
];

describe('monitoring to HTTP: KServe CloudEvents, binary mode', () => {
  it('sends one request/response pair per successful request, with the KServe header set and the same ce-id', async () => {
    const receiver = new Receiver();
    const app = await monitoredApp(models, { logStream: await receiver.start(), cloudEvents: { source: 'iris-predictor-00001', namespace: 'fraud' } });
    try {
      for (let i = 0; i < 20; i++) expect((await send(app, 'POST', '/v2/models/echo/infer', fp32(`ce-${i}`, [i, 1.5]))).status).toBe(200);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      expect((await send(app, 'POST', '/v2/models/echo/infer', fp32('traced', [1]), { traceparent })).status).toBe(200);
      expect((await send(app, 'POST', '/v2/models/buggy/infer', fp32('fails', [1]))).status).toBe(500);
    } finally {
      await app.close();
      await receiver.stop();
    }
    const byId = new Map<string, Received[]>();
    for (const r of receiver.received) byId.set(String(r.headers['ce-id']), [...(byId.get(String(r.headers['ce-id'])) ?? []), r]);
    expect(receiver.received).toHaveLength(21 * 2 + 1);
    for (let i = 0; i < 20; i++) {
      const pair = byId.get(`ce-${i}`)!;
      expect(pair.map((r) => r.headers['ce-type'])).toEqual(['org.kubeflow.serving.inference.request', 'org.kubeflow.serving.inference.response']);
      for (const r of pair) {
        for (const h of KSERVE_HEADERS) expect(r.headers).toHaveProperty(h);
        expect(r.headers).toMatchObject({
          'ce-specversion': '1.0',
          'ce-id': `ce-${i}`,
          'ce-source': 'iris-predictor-00001',
          'content-type': 'application/json',
          'ce-inferenceservicename': 'echo',
          'ce-namespace': 'fraud',
          'ce-component': 'predictor',
          'ce-endpoint': 'default',
          'ce-metadata': '{}',
          'ce-modelname': 'echo',
          'ce-modelversion': '1',
        });
        expect(r.headers['ce-time']).toMatch(RFC3339);
        expect(r.headers['ce-recordedtime']).toMatch(RFC3339);
      }
      const [request, response] = pair;
      expect(Date.parse(String(response.headers['ce-time']))).toBeGreaterThanOrEqual(Date.parse(String(request.headers['ce-time'])));
      expect(JSON.parse(request.body)).toEqual({ id: `ce-${i}`, inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [i, 1.5] }] });
      expect(JSON.parse(response.body)).toEqual({ model_name: 'echo', model_version: '1', id: `ce-${i}`, outputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [i, 1.5] }] });
    }
    const traced = byId.get('traced')!;
    expect(traced).toHaveLength(2);
    for (const r of traced) {
      expect(r.headers['ce-traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(JSON.parse(String(r.headers['ce-metadata']))).toEqual({ traceparent: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'] });
    }
    // Like KServe: a failed request has its request event only...
    expect(byId.get('fails')!.map((r) => r.headers['ce-type'])).toEqual(['org.kubeflow.serving.inference.request']);
  });

  it('adds an error event for a failed request when errorEvents is on', async () => {
    const receiver = new Receiver();
    const app = await monitoredApp(models, { logStream: await receiver.start(), cloudEvents: { errorEvents: true } });
    try {
      expect((await send(app, 'POST', '/v2/models/buggy/infer', fp32('fails', [1]))).status).toBe(500);
      expect((await send(app, 'POST', '/v2/models/echo/infer', { id: 'bad', inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1] }] })).status).toBe(400);
    } finally {
      await app.close();
      await receiver.stop();
    }
    const types = receiver.received.map((r) => [r.headers['ce-id'], r.headers['ce-type']]);
    expect(types).toEqual([
      ['fails', 'org.kubeflow.serving.inference.request'],
      ['fails', 'org.kubeflow.serving.inference.error'],
      ['bad', 'org.kubeflow.serving.inference.request'],
      ['bad', 'org.kubeflow.serving.inference.error'],
    ]);
    expect(JSON.parse(receiver.received[1].body)).toEqual({ error: expect.stringMatching(/reading 'weights'/), code: 'MODEL_ERROR' });
    expect(JSON.parse(receiver.received[3].body)).toEqual({ error: expect.stringMatching(/needs 2 elements/), code: 'INVALID_REQUEST' });
  });

  it('POSTs MLRun records as JSON bodies when the format is mlrun', async () => {
    const receiver = new Receiver();
    const app = await monitoredApp(models, { logStream: await receiver.start(), format: 'mlrun' });
    try {
      for (let i = 0; i < 3; i++) await send(app, 'POST', '/v2/models/echo/infer', fp32(`m-${i}`, [i]));
    } finally {
      await app.close();
      await receiver.stop();
    }
    expect(receiver.received).toHaveLength(3);
    for (const [i, r] of receiver.received.entries()) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['ce-id']).toBeUndefined();
      expect(JSON.parse(r.body)).toMatchObject({ class: 'EchoFixture', model: 'echo', version: '1', op: 'infer', request: { id: `m-${i}` } });
    }
  });

  it('retries 5xx answers with back-off and delivers once the receiver recovers; a 4xx is dropped without retry', async () => {
    const flaky = new Receiver((n) => (n <= 3 ? 503 : 200));
    const app = await monitoredApp(models, { logStream: await flaky.start(), format: 'mlrun', retryBackoffMs: 5, batchIntervalMs: 10 });
    const pipe = app.get(RecordPipeline);
    try {
      await send(app, 'POST', '/v2/models/echo/infer', fp32('retried', [1]));
    } finally {
      await app.close();
      await flaky.stop();
    }
    expect(flaky.attempts).toBe(4);
    expect(flaky.received.map((r) => JSON.parse(r.body).request.id)).toEqual(['retried']);
    expect(pipe.stats).toEqual({ sent: 1, dropped: 0 });

    const refusing = new Receiver(() => 400);
    const app2 = await monitoredApp(models, { logStream: await refusing.start(), retryBackoffMs: 5, batchIntervalMs: 10 });
    const pipe2 = app2.get(RecordPipeline);
    try {
      await send(app2, 'POST', '/v2/models/echo/infer', fp32('refused', [1]));
    } finally {
      await app2.close();
      await refusing.stop();
    }
    expect(refusing.attempts).toBe(2); // the request and the response event, each tried once
    expect(pipe2.stats).toEqual({ sent: 0, dropped: 2 });
  });
});

describe('a slow or dead sink never delays or fails an inference', () => {
  it('a receiver that never answers: every request answers at once, the bounded buffer drops and counts, shutdown is bounded', async () => {
    const hanging = new Receiver(() => 'hang');
    const app = await monitoredApp(models, {
      logStream: await hanging.start(),
      bufferSize: 20,
      batchSize: 5,
      batchIntervalMs: 5,
      concurrency: 2,
      timeoutMs: 60_000,
      flushTimeoutMs: 300,
      metrics: true,
    });
    const pipe = app.get(RecordPipeline);
    try {
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => send(app, 'POST', '/v2/models/echo/infer', fp32(`h-${i}`, [i]))));
      expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
      expect(performance.now() - started).toBeLessThan(5000);
      expect(pipe.buffered).toBeLessThanOrEqual(20);
      expect(pipe.stats.dropped).toBeGreaterThan(100); // 200 events, 20 in the buffer, a few in flight
      const metrics = await send(app, 'GET', '/metrics');
      expect(metrics.body).toMatch(/nms_monitoring_records_dropped_total\{sink="http",reason="overflow"\} \d+/);
      expect(metrics.body).toMatch(/nms_monitoring_buffer_records\{sink="http"\} 20/);
    } finally {
      const closing = performance.now();
      await app.close();
      expect(performance.now() - closing).toBeLessThan(3000); // flushTimeoutMs, not the 60 s request timeout
      await hanging.stop();
    }
    expect(pipe.stats.sent).toBe(0);
    expect(pipe.stats.dropped).toBe(200);
  });

  it('a receiver that is not there (connection refused): requests answer 200, records are retried then dropped', async () => {
    const gone = new Receiver();
    const url = await gone.start();
    await gone.stop();
    const app = await monitoredApp(models, { logStream: url, retries: 1, retryBackoffMs: 5, batchIntervalMs: 5, flushTimeoutMs: 2000 });
    const pipe = app.get(RecordPipeline);
    try {
      for (let i = 0; i < 10; i++) expect((await send(app, 'POST', '/v2/models/echo/infer', fp32(`g-${i}`, [i]))).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(pipe.stats).toEqual({ sent: 0, dropped: 20 });
  });
});
