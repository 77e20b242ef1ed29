import { Injectable, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  ContentCodecProvider,
  createFastifyAdapter,
  ErrorCode,
  ModelServer,
  ModelServerError,
  ModelServerModule,
  type ContentCodec,
  type ContentTarget,
  type DecodedContent,
  type InferenceRequest,
  type InferenceResponse,
  type InferenceResult,
  type ModelServerModuleOptions,
} from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { ContentCodecRegistry } from '../libs/model-server/src/internal';
import { EchoFixture } from './fixtures/test-models';
import { send } from './helpers/test-app';

/** Sums each row of a 1-D FP32 input into a running total (declares its input). */
class Cumulative extends ModelServer {
  inputs = [{ name: 'x', datatype: 'FP32' as const, shape: [-1] }];
  predict(request: InferenceRequest): InferenceResult {
    const x = request.inputs[0].data as Float32Array;
    const out = new Float64Array(x.length);
    let sum = 0;
    for (let i = 0; i < x.length; i++) out[i] = sum += x[i];
    return { outputs: [{ name: 'total', datatype: 'FP64', shape: [x.length], data: out }] };
  }
}

/** Takes two inputs: bare rows cannot address it. */
class TwoInputs extends EchoFixture {
  inputs = [
    { name: 'a', datatype: 'FP32' as const, shape: [-1] },
    { name: 'b', datatype: 'FP32' as const, shape: [-1] },
  ];
}

/** Answers NaN, which JSON cannot carry. */
class NotANumber extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data: [NaN, 1] }] };
  }
}

/** Tab-separated rows: a codec of the application's own. */
@ContentCodecProvider()
@Injectable()
class TsvCodec implements ContentCodec {
  readonly mediaTypes = ['text/tab-separated-values'];
  decode(body: Buffer, target: ContentTarget): DecodedContent {
    const rows = body.toString('utf8').trim().split('\n').map((line) => line.split('\t').map(Number));
    if (rows.some((r) => r.some(Number.isNaN))) throw new ModelServerError(ErrorCode.InvalidRequest, 'TSV fields must be numbers');
    return { request: { inputs: [{ name: target.input!.name, datatype: target.input!.datatype, shape: [rows.length, rows[0].length], data: rows.flat() }] }, format: 'rows' };
  }
  encode(response: InferenceResponse): string {
    const t = response.outputs[0];
    const n = t.shape[0];
    const size = t.data.length / n;
    const lines: string[] = [];
    for (let r = 0; r < n; r++) lines.push(Array.from(t.data.slice(r * size, (r + 1) * size) as ArrayLike<number>).join('\t'));
    return lines.join('\n') + '\n';
  }
}

/** Replaces the built-in CSV writer only (reading CSV stays built in). */
@ContentCodecProvider()
@Injectable()
class SemicolonCsvWriter implements ContentCodec {
  readonly mediaTypes = ['text/csv'];
  encode(response: InferenceResponse): string {
    return Array.from(response.outputs[0].data as ArrayLike<number>).join(';') + '\n';
  }
}

@Module({ providers: [TsvCodec] })
class TsvModule {}

async function appWith(options: ModelServerModuleOptions, extra: { imports?: unknown[]; providers?: unknown[] } = {}): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot(options), SageMakerModule.forRoot({}), ...((extra.imports ?? []) as [])],
    providers: (extra.providers ?? []) as [],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ bodyLimit: options.maxBodyBytes }), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

function target(model: string, headers: Record<string, string> = {}): Record<string, string> {
  return { 'x-amzn-sagemaker-target-model': model, ...headers };
}

/** An .npy file: version 1 header padded to 64 bytes, then the data. */
function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write('\x93NUMPY\x01\x00', 0, 'latin1');
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** The data of an .npy answer, after its header. */
function npyData(raw: Buffer): { header: string; data: Buffer } {
  const length = raw.readUInt16LE(8);
  return { header: raw.toString('latin1', 10, 10 + length), data: raw.subarray(10 + length) };
}

describe('content types at /invocations', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await appWith({
      maxBodyBytes: 4096,
      models: [
        { name: 'echo', model: EchoFixture },
        { name: 'cumulative', model: Cumulative },
        { name: 'two', model: TwoInputs },
        { name: 'nan', model: NotANumber },
      ],
    });
  });
  afterAll(() => app.close());

  it('answers in the request\'s own type when Accept is absent or a wildcard', async () => {
    const csv = await send(app, 'POST', '/invocations', '1,2\n3,4\n', target('echo', { 'content-type': 'text/csv' }));
    expect([csv.status, csv.headers['content-type'], csv.body]).toEqual([200, 'text/csv; charset=utf-8', '1,2\n3,4\n']);
    const json = await send(app, 'POST', '/invocations', '[[1.5,2],[3,4]]', target('echo', { 'content-type': 'application/json', accept: '*/*' }));
    expect([json.status, json.body]).toEqual([200, { predictions: [[1.5, 2], [3, 4]] }]);
  });

  it('reads one type and writes another, as Accept asks (quality values honoured)', async () => {
    const res = await send(app, 'POST', '/invocations', '{"instances":[[1,2],[3,4]]}', target('echo', { 'content-type': 'application/json', accept: 'application/json;q=0.5, text/csv' }));
    expect([res.headers['content-type'], res.body]).toEqual(['text/csv; charset=utf-8', '1,2\n3,4\n']);
    const header = await send(app, 'POST', '/invocations', '1,2\n', target('echo', { 'content-type': 'text/csv', accept: 'text/csv; header=present' }));
    expect(header.body).toBe('input-0_0,input-0_1\n1,2\n');
  });

  it('answers a v2 JSON request with a v2 response', async () => {
    const body = { id: 'r1', inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [9007199254740993n] }] };
    const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `#${v}#` : v)).replace(/"#(\d+)#"/g, '$1');
    const res = await send(app, 'POST', '/invocations', text, target('echo', { 'content-type': 'application/json' }));
    expect(res.body).toEqual({ model_name: 'echo', id: 'r1', outputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [9007199254740993n] }] });
  });

  it('reads and writes NPY: the array keeps its dtype and shape', async () => {
    const body = npy('<f8', [2, 2], Float64Array.from([0.1, 2, 3, 4]));
    const res = await send(app, 'POST', '/invocations', body, target('echo', { 'content-type': 'application/x-npy' }));
    expect([res.status, res.headers['content-type']]).toEqual([200, 'application/x-npy']);
    const { header, data } = npyData(res.raw);
    expect(header).toMatch(/^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/);
    expect(Array.from(new Float64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)))).toEqual([0.1, 2, 3, 4]);
    const asJson = await send(app, 'POST', '/invocations', npy('<i4', [3], Int32Array.from([1, -2, 3])), target('echo', { 'content-type': 'application/x-npy', accept: 'application/json' }));
    expect(asJson.body).toEqual({ predictions: [1, -2, 3] });
  });

  it('converts NPY float64 and CSV numbers to a declared FP32 input, and gives a 1-D input one value per line', async () => {
    const fromNpy = await send(app, 'POST', '/invocations', npy('<f8', [3], Float64Array.from([1, 2, 3])), target('cumulative', { 'content-type': 'application/x-npy', accept: 'text/csv' }));
    expect(fromNpy.body).toBe('1\n3\n6\n');
    const fromCsv = await send(app, 'POST', '/invocations', '1\n2\n3\n', target('cumulative', { 'content-type': 'text/csv' }));
    expect(fromCsv.body).toBe('1\n3\n6\n');
  });

  it('answers 415 for an unsupported type and 406 for an unacceptable Accept, before running the model', async () => {
    const unsupported = await send(app, 'POST', '/invocations', '<x/>', target('echo', { 'content-type': 'application/xml' }));
    expect([unsupported.status, unsupported.body.error]).toEqual([415, "content type 'application/xml' is not supported for /invocations; send one of application/json, text/csv, application/x-npy"]);
    const events: InferenceEvent[] = [];
    const subscription = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    const unacceptable = await send(app, 'POST', '/invocations', '1\n', target('echo', { 'content-type': 'text/csv', accept: 'text/html, application/json;q=0' }));
    subscription.unsubscribe();
    expect(unacceptable.status).toBe(406);
    // Refused while reading the body, before the model ran: the request's one event has no predict stage.
    expect(events.map((e) => [e.model, e.status, e.errorCode, Object.keys(e.stages)])).toEqual([['echo', 'error', 'NOT_ACCEPTABLE', []]]);
    const gzip = await send(app, 'POST', '/invocations', '1\n', target('echo', { 'content-type': 'text/csv', 'content-encoding': 'gzip' }));
    expect([gzip.status, gzip.body.error]).toEqual([415, "content encoding 'gzip' is not supported on /invocations; send the body uncompressed"]);
  });

  it('answers 400 with what to fix for bodies that do not parse', async () => {
    for (const [type, body, error] of [
      ['text/csv', '1,2\n3\n', 'CSV line 2 has 1 fields, but line 1 has 2; every row needs the same number'],
      ['text/csv', '1,x\n', 'CSV line 1, field 2: "x" is not a number'],
      ['application/json', '[[1,2],[3]]', 'the body: rows must be rectangular; row[1] has 1 values where row[0] has 2'],
      ['application/json', '{"rows":1}', 'a JSON body must be a v2 request {"inputs": [{"name", "datatype", "shape", "data"}]}, rows [[...], ...] or {"instances": [[...], ...]}'],
      ['application/json', '', 'the body is empty; send JSON: a v2 request {"inputs": [{"name", "datatype", "shape", "data"}]}, rows [[...], ...] or {"instances": [[...], ...]}'],
      ['application/x-npy', 'nope', 'the application/x-npy body does not start with the NPY magic bytes (\\x93NUMPY)'],
    ]) {
      const res = await send(app, 'POST', '/invocations', body, target('echo', { 'content-type': type }));
      expect([type, res.status, res.body.error]).toEqual([type, 400, error]);
    }
  });

  it('keeps value checks: out-of-range values and wrong shapes are 400s from the data plane', async () => {
    const overflow = await send(app, 'POST', '/invocations', '1e39\n', target('cumulative', { 'content-type': 'text/csv' }));
    expect(overflow.status).toBe(400);
    expect(overflow.body.error).toMatch(/out of range for FP32/);
    const shape = await send(app, 'POST', '/invocations', '1,2\n', target('cumulative', { 'content-type': 'text/csv' }));
    expect(shape.body.error).toBe("input 'x' has shape [1,2]; model 'cumulative' expects [-1] (-1: any size)");
  });

  it('refuses bare rows for a model with several inputs, but takes a v2 request', async () => {
    const rows = await send(app, 'POST', '/invocations', '1\n', target('two', { 'content-type': 'text/csv' }));
    expect([rows.status, rows.body.error]).toEqual([400, "model 'two' takes 2 inputs ('a', 'b'); text/csv carries one, so send a v2 request as application/json"]);
    const v2 = { inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }, { name: 'b', datatype: 'FP32', shape: [1], data: [2] }] };
    expect((await send(app, 'POST', '/invocations', v2, target('two'))).status).toBe(200);
  });

  it('refuses NaN in JSON (406) but writes it in CSV and NPY', async () => {
    const json = await send(app, 'POST', '/invocations', '[1]', target('nan', { 'content-type': 'application/json' }));
    expect([json.status, json.body.error]).toEqual([406, "output 'y' holds NaN or Infinity, which JSON cannot carry; ask for application/x-npy"]);
    const csv = await send(app, 'POST', '/invocations', '[1]', target('nan', { 'content-type': 'application/json', accept: 'text/csv' }));
    expect(csv.body).toBe('nan\n1\n');
    const binary = await send(app, 'POST', '/invocations', '[1]', target('nan', { 'content-type': 'application/json', accept: 'application/x-npy' }));
    const { data } = npyData(binary.raw);
    expect(Array.from(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)))).toEqual([NaN, 1]);
  });

  it('answers 413 over the body limit, naming the setting', async () => {
    const res = await send(app, 'POST', '/invocations', '1\n'.repeat(3000), target('echo', { 'content-type': 'text/csv' }));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/larger than 4096 bytes.*maxBodyBytes/);
  });
});

describe('codecs of the application (Nest providers)', () => {
  it('collects a codec provider from any module and uses it both ways', async () => {
    const app = await appWith({ models: [{ name: 'echo', model: EchoFixture }] }, { imports: [TsvModule] });
    try {
      expect(app.get(ContentCodecRegistry).readable).toEqual(['application/json', 'text/csv', 'application/x-npy', 'text/tab-separated-values']);
      const res = await send(app, 'POST', '/invocations', '1\t2\n3\t4\n', target('echo', { 'content-type': 'text/tab-separated-values' }));
      expect([res.status, res.headers['content-type'], res.body]).toEqual([200, 'text/tab-separated-values; charset=utf-8', '1\t2\n3\t4\n']);
      const bad = await send(app, 'POST', '/invocations', 'a\tb\n', target('echo', { 'content-type': 'text/tab-separated-values' }));
      expect([bad.status, bad.body.error]).toEqual([400, 'TSV fields must be numbers']);
    } finally {
      await app.close();
    }
  });

  it('lets a codec replace one direction of a built-in one', async () => {
    const app = await appWith({ models: [{ name: 'echo', model: EchoFixture }] }, { providers: [SemicolonCsvWriter] });
    try {
      const res = await send(app, 'POST', '/invocations', '1,2\n3,4\n', target('echo', { 'content-type': 'text/csv' }));
      expect(res.body).toBe('1;2;3;4\n');
    } finally {
      await app.close();
    }
  });

  it('refuses two codecs of the application for one media type, at boot', async () => {
    @ContentCodecProvider()
    @Injectable()
    class OtherCsvWriter extends SemicolonCsvWriter {}
    await expect(appWith({ models: [{ name: 'echo', model: EchoFixture }] }, { providers: [SemicolonCsvWriter, OtherCsvWriter] })).rejects.toThrow(
      'content codecs SemicolonCsvWriter and OtherCsvWriter both encode text/csv; keep one',
    );
  });
});
