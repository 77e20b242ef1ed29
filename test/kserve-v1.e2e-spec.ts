import { gzipSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ModelServerModuleOptions } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { SlowModel } from '../samples/slow/slow.model';
import { BrokenFixture, EchoFixture, SumFixture } from './fixtures/test-models';
import { createApp, DOORS, samplesServer, send } from './helpers/test-app';

describe('KServe v1 on the samples server (npm start)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await samplesServer();
  });
  afterAll(() => app.close());

  it('POST /v1/models/iris:predict {"instances": [[5.1,3.5,1.4,0.2]]} answers one prediction per instance', async () => {
    const one = await send(app, 'POST', '/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Object.keys(one.body)).toEqual(['predictions']);
    expect(one.body.predictions).toHaveLength(1);
    expect(one.body.predictions[0]).toMatchObject({ class: 0, label: 'setosa' });
    const three = await send(app, 'POST', '/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]] });
    expect(three.status).toBe(200);
    expect(three.body.predictions.map((p: { label: string }) => p.label)).toEqual(['setosa', 'virginica', 'versicolor']);
  });

  it('{"inputs": [...]} is read like instances', async () => {
    const res = await send(app, 'POST', '/v1/models/iris:predict', { inputs: [[6.7, 3.0, 5.2, 2.3]] });
    expect(res.status).toBe(200);
    expect(res.body.predictions).toEqual([expect.objectContaining({ label: 'virginica' })]);
  });

  it('GET /v1/models lists the names; GET /v1/models/iris says ready', async () => {
    const list = await send(app, 'GET', '/v1/models');
    expect(list.status).toBe(200);
    expect(list.body.models).toEqual(expect.arrayContaining(['iris', 'echo', 'scorecard']));
    expect(list.body.models.every((m: unknown) => typeof m === 'string')).toBe(true);
    expect(await send(app, 'GET', '/v1/models/iris')).toMatchObject({ status: 200, body: { name: 'iris', ready: true } });
  });

  it('the v1 routes are described in /openapi.json', async () => {
    const doc = await send(app, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/models', '/v1/models/{model}', '/v1/models/{model}:predict', '/v1/models/{model}:explain']),
    );
  });
});

const MODELS: ModelServerModuleOptions['models'] = [
  { name: 'echo', model: EchoFixture },
  { name: 'sum', model: SumFixture },
  { name: 'broken', model: BrokenFixture },
  { name: 'slow', model: SlowModel, parameters: { delay_ms: 2000 } },
];

describe.each(DOORS)('KServe v1 through the %s door', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: MODELS, maxBodyBytes: 1024 * 1024 }, door);
  });
  afterAll(() => app.close());

  it('a model without declared inputs gets one tensor whose datatype the values decide', async () => {
    const ints = await send(app, 'POST', '/v1/models/echo:predict', { instances: [[1, 2], [3, 4]] });
    expect(ints).toMatchObject({ status: 200, body: { predictions: [[1, 2], [3, 4]] } });
    const floats = await send(app, 'POST', '/v1/models/echo:predict', { instances: [[0.1, 2], [3, 4.25]] });
    expect(floats).toMatchObject({ status: 200, body: { predictions: [[0.1, 2], [3, 4.25]] } });
    const strings = await send(app, 'POST', '/v1/models/echo:predict', { instances: ['a cat', 'a dog'] });
    expect(strings).toMatchObject({ status: 200, body: { predictions: ['a cat', 'a dog'] } });
    const bools = await send(app, 'POST', '/v1/models/echo:predict', { instances: [true, false] });
    expect(bools).toMatchObject({ status: 200, body: { predictions: [true, false] } });
    // As for a v2 BOOL tensor, 0 and 1 are booleans too.
    const bits = await send(app, 'POST', '/v1/models/echo:predict', { instances: [true, 0, 1] });
    expect(bits).toMatchObject({ status: 200, body: { predictions: [true, false, true] } });
    const big = await send(app, 'POST', '/v1/models/echo:predict', '{"instances": [9007199254740993, 1]}');
    expect(big.status).toBe(200);
    expect(big.raw.toString()).toBe('{"predictions":[9007199254740993,1]}');
  });

  it('a large body (read from its bytes, in slices) gets the same inferred datatypes', async () => {
    // Values an FP32 tensor could not carry: integers past 2^24 and doubles with more digits than a float holds.
    const rows = Array.from({ length: 8000 }, (_, i) => [i, i + 1, 2 ** 40 + i]);
    const ints = await send(app, 'POST', '/v1/models/echo:predict', { instances: rows });
    expect(ints.status).toBe(200);
    expect(ints.body.predictions).toEqual(rows);
    const floats = rows.map((r) => r.map((v) => v + 0.123456789));
    const fp = await send(app, 'POST', '/v1/models/echo:predict', { instances: floats });
    expect(fp.status).toBe(200);
    expect(fp.body.predictions).toEqual(floats);
    const words = rows.map((r) => r.map((v) => `w${v}`));
    const text = await send(app, 'POST', '/v1/models/echo:predict', { instances: words });
    expect(text.status).toBe(200);
    expect(text.body.predictions).toEqual(words);
  });

  it('rows fill the declared input (its datatype, its shape); :explain answers {"explanations"}', async () => {
    const res = await send(app, 'POST', '/v1/models/sum:predict', { instances: [1, 2, 3.5] });
    expect(res).toMatchObject({ status: 200, body: { predictions: [{ sum: 6.5, count: 3 }] } });
    const explained = await send(app, 'POST', '/v1/models/sum:explain', { instances: [1, 2, 3.5] });
    expect(explained).toMatchObject({ status: 200, body: { explanations: [1, 2, 3.5] } });
    expect(Object.keys(explained.body)).toEqual(['explanations']);
    // The declared datatype converts: a string is not an FP32.
    const wrong = await send(app, 'POST', '/v1/models/sum:predict', { instances: ['x'] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toEqual(expect.any(String));
  });

  it('answers v1 errors as {"error"} with their statuses', async () => {
    const cases: [string, string, unknown, Record<string, string> | undefined, number][] = [
      ['POST', '/v1/models/nope:predict', { instances: [[1]] }, undefined, 404],
      ['GET', '/v1/models/nope', undefined, undefined, 404],
      ['POST', '/v1/models/echo:explain', { instances: [[1]] }, undefined, 404],
      ['POST', '/v1/models/echo:train', { instances: [[1]] }, undefined, 404],
      ['POST', '/v1/models/echo', { instances: [[1]] }, undefined, 404],
      ['POST', '/v1/models/echo:predict', '{"instances": [[1, 2], [3]]}', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '{"instances": [[1, 2]', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '{"instances": 3}', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '{"instances": [1, "a"]}', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '{"instances": ["a", 1]}', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '{"instances": [1, true]}', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '', { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/models/echo:predict', '1,2\n', { 'content-type': 'text/csv' }, 415],
      ['POST', '/v1/models/echo:predict', '{"instances": [[1]]}', { 'content-type': 'application/json', 'content-encoding': 'br' }, 415],
      ['POST', '/v1/models/echo:predict', `{"instances": [${'1,'.repeat(600_000)}1]}`, { 'content-type': 'application/json' }, 413],
      ['POST', '/v1/models/broken:predict', { instances: [[1]] }, undefined, 503],
      ['GET', '/v1/models/broken', undefined, undefined, 503],
    ];
    for (const [method, url, body, headers, status] of cases) {
      const res = await send(app, method, url, body, headers);
      expect([method, url, res.status]).toEqual([method, url, status]);
      expect(typeof res.body.error).toBe('string');
    }
  });

  it('reads gzip bodies', async () => {
    const res = await send(app, 'POST', '/v1/models/echo:predict', gzipSync('{"instances": [[7, 8]]}'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res).toMatchObject({ status: 200, body: { predictions: [[7, 8]] } });
  });

  it('keeps the deadline of X-Request-Timeout (504)', async () => {
    const res = await send(app, 'POST', '/v1/models/slow:predict', { instances: [[1]] }, { 'x-request-timeout': '100ms' });
    expect(res.status).toBe(504);
    expect(res.body.error).toEqual(expect.any(String));
  });

  it('gives each request one monitoring event, protocol v1, refused ones included', async () => {
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      await send(app, 'POST', '/v1/models/echo:predict', { instances: [[1, 2]] });
      await send(app, 'POST', '/v1/models/sum:explain', { instances: [1] });
      await send(app, 'POST', '/v1/models/echo:predict', '{"instances": [[1], [1, 2]]}', { 'content-type': 'application/json' });
      await send(app, 'POST', '/v1/models/nope:predict', { instances: [[1]] });
    } finally {
      sub.unsubscribe();
    }
    expect(events.map((e) => [e.model, e.op, e.protocol, e.status])).toEqual([
      ['echo', 'infer', 'v1', 'ok'],
      ['sum', 'explain', 'v1', 'ok'],
      ['echo', 'infer', 'v1', 'error'],
    ]);
    expect(events[0].request?.inputs[0]).toMatchObject({ name: 'input-0', datatype: 'INT64', shape: [1, 2] });
    expect(events[2].errorCode).toBe('INVALID_REQUEST');
  });
});

describe('KServe v1 with auth and limits', () => {
  let app: NestFastifyApplication;
  afterEach(() => app.close());

  it('needs credentials like v2', async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['v1-secret-token'] } }, 'socket');
    expect((await send(app, 'GET', '/v1/models')).status).toBe(401);
    expect((await send(app, 'POST', '/v1/models/echo:predict', { instances: [[1]] })).status).toBe(401);
    const ok = await send(app, 'POST', '/v1/models/echo:predict', { instances: [[1]] }, { authorization: 'Bearer v1-secret-token' });
    expect(ok).toMatchObject({ status: 200, body: { predictions: [[1]] } });
  });

  it('refuses tensors over maxTensorBytes (413) and is off with v1: false', async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], maxTensorBytes: 1024 });
    const res = await send(app, 'POST', '/v1/models/echo:predict', { instances: Array.from({ length: 200 }, (_, i) => [i, i]) });
    expect(res.status).toBe(413);
    await app.close();
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], v1: false });
    expect((await send(app, 'POST', '/v1/models/echo:predict', { instances: [[1]] })).status).toBe(404);
  });
});
