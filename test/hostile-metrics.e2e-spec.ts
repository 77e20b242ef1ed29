import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, ServerUnderTest, startCli } from './helpers/cli-process';
import { inferRequest, RawGrpcClient } from './fixtures/hostile-requests';

/**
 * Issue 13, class "unbounded metric series": requests to operations a model never declared, to models and versions
 * that do not exist, over REST and gRPC, must not become monitoring events nor new `/metrics` series (each series
 * is kept forever, so a client that invents names would grow the server's memory without end). A declared
 * operation, on the same server, is metered, and an infer recorded: the test sees series and records when due.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
const dir = mkdtempSync(join(tmpdir(), 'hostile-metrics-'));
const records = join(dir, 'records.jsonl');

const server = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'warn', LOG_STREAM: `file://${records}`, LOG_STREAM_BATCH: '1' }));
beforeAll(() => server.ensure(), 60000);
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
const JSON_TYPE = { 'content-type': 'application/json' };

async function metricsText(): Promise<string> {
  const a = await send(server.cli.port, '/metrics', { method: 'GET' });
  expect(a.status).toBe(200);
  return a.body;
}

/** The record lines written so far, once the stream has had time to flush. */
async function recordLines(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 600));
  return existsSync(records) ? readFileSync(records, 'utf8').split('\n').filter((l) => l !== '') : [];
}

describe('hostile input: invented names create no metric series and no monitoring events (real process)', () => {
  it('a declared operation is metered, and an infer on a declared model recorded (the control)', async () => {
    const a = await send(server.cli.port, '/v2/models/count/stats', { body, headers: JSON_TYPE });
    expect(a.status).toBe(200);
    expect(await metricsText()).toMatch(/op="stats"/);
    const b = await send(server.cli.port, '/v2/models/echo/infer', { body, headers: JSON_TYPE });
    expect(b.status).toBe(200);
    const lines = await recordLines();
    expect(lines.some((l) => l.includes('"op":"infer"') && l.includes('"model":"echo"'))).toBe(true);
    // MLRun records custom operations not at all (MLRun writes none); the metrics count them.
    expect(lines.some((l) => l.includes('"op":"stats"'))).toBe(false);
  });

  it('200 undeclared operations, 200 unknown models, 50 unknown versions (REST) and 50 unknown models (gRPC)', async () => {
    const port = server.cli.port;
    const beforeMetrics = await metricsText();
    const beforeRecords = (await recordLines()).length;
    const invented: string[] = [];
    for (let i = 0; i < 200; i++) {
      const op = `zzop${i}x${Math.random().toString(36).slice(2, 8)}`;
      invented.push(op);
      await send(port, `/v2/models/echo/${op}`, { body, headers: JSON_TYPE });
      if (i % 4 === 0) await send(port, `/v2/models/count/${op}`, { method: 'GET' });
    }
    for (let i = 0; i < 200; i++) {
      const model = `zzmodel${i}x${Math.random().toString(36).slice(2, 8)}`;
      invented.push(model);
      await send(port, `/v2/models/${model}/infer`, { body, headers: JSON_TYPE });
      if (i % 4 === 0) await send(port, `/v2/models/${model}/${model}op`, { body, headers: JSON_TYPE });
      if (i % 4 === 1) await send(port, '/invocations', { body: '1\n', headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': model } });
    }
    for (let i = 0; i < 50; i++) {
      const version = `zzver${i}x${Math.random().toString(36).slice(2, 8)}`;
      invented.push(version);
      await send(port, `/v2/models/echo/versions/${version}/infer`, { body, headers: JSON_TYPE });
    }
    const grpc = new RawGrpcClient(server.cli.grpcPort);
    try {
      for (let i = 0; i < 50; i++) {
        const model = `zzgrpc${i}x${Math.random().toString(36).slice(2, 8)}`;
        invented.push(model);
        await grpc.call('ModelInfer', inferRequest({ model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw: [Buffer.alloc(4)] }));
      }
    } finally {
      grpc.close();
    }
    const afterMetrics = await metricsText();
    const newRecords = (await recordLines()).slice(beforeRecords);
    const inMetrics = invented.filter((name) => afterMetrics.includes(name));
    const inRecords = invented.filter((name) => newRecords.some((l) => l.includes(name)));
    const growth = afterMetrics.split('\n').length - beforeMetrics.split('\n').length;
    console.log(`invented names: ${invented.length}; /metrics grew by ${growth} lines; ${inMetrics.length} names in /metrics, ${inRecords.length} in ${newRecords.length} new records`);
    expect({
      namesInMetrics: inMetrics.length,
      namesInRecords: inRecords.length,
      examples: [...inMetrics.slice(0, 3), ...inRecords.slice(0, 3)],
    }).toEqual({ namesInMetrics: 0, namesInRecords: 0, examples: [] });
    // A bounded number of new lines at most (say, one aggregate series per status), never one per name.
    expect(growth).toBeLessThan(100);
  }, 120000);
});
