import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokenFixture, BuggyFixture, EchoFixture, GatedFixture, SumFixture } from './fixtures/test-models';
import { createApp, DOORS, send } from './helpers/test-app';

const fp32 = (data: number[], name = 'x') => ({ inputs: [{ name, datatype: 'FP32', shape: [data.length], data }] });

describe.each(DOORS)('v2 REST protocol (%s)', (door) => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createApp({
      models: [
        { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }, { version: '10' }] },
        { name: 'pinned', model: EchoFixture, versions: [{ version: '1', default: true }, { version: '2' }] },
        { name: 'sum', model: SumFixture, parameters: { threshold: 7 }, labels: { team: 'core' } },
        {
          name: 'sumv',
          model: SumFixture,
          versions: [{ version: '1', parameters: { threshold: 1 } }, { version: '2', parameters: { threshold: 2 } }],
        },
        { name: 'broken', model: BrokenFixture },
        { name: 'buggy', model: BuggyFixture },
        { name: 'nested', model: EchoFixture, inputPath: 'data.request', resultPath: 'result' },
      ],
    }, door);
  });
  afterAll(() => app.close());

  describe('server routes', () => {
    it('GET /v2 gives name, version and extensions', async () => {
      const res = await send(app, 'GET', '/v2');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: 'nest-model-server', version: expect.any(String), extensions: expect.arrayContaining(['model_repository', 'binary_tensor_data']) });
    });

    it('live is 200 with {"live":true}', async () => {
      const res = await send(app, 'GET', '/v2/health/live');
      expect([res.status, res.body]).toEqual([200, { live: true }]);
    });

    it('ready is 503 while a configured model failed (strict readiness)', async () => {
      const res = await send(app, 'GET', '/v2/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.ready).toBe(false);
      expect(typeof res.body.error).toBe('string');
    });

    it('GET /v2/models lists models, versions, defaults and states', async () => {
      const res = await send(app, 'GET', '/v2/models');
      expect(res.status).toBe(200);
      const byName = Object.fromEntries(res.body.models.map((m: { name: string }) => [m.name, m]));
      expect(byName.echo.versions.map((v: { version: string }) => v.version)).toEqual(['1', '2', '10']);
      expect(byName.echo.default_version).toBe('10');
      expect(byName.pinned.default_version).toBe('1');
      expect(byName.broken.versions).toEqual([{ state: 'failed', reason: 'weights file is corrupt' }]);
      expect(byName.sum.labels).toEqual({ team: 'core' });
    });

    it('POST /v2/repository/index answers Triton-style rows, filtered by ready', async () => {
      const all = await send(app, 'POST', '/v2/repository/index', {});
      expect(all.status).toBe(200);
      expect(all.body).toContainEqual({ name: 'echo', version: '2', state: 'READY' });
      expect(all.body).toContainEqual({ name: 'broken', state: 'UNAVAILABLE', reason: 'weights file is corrupt' });
      const ready = await send(app, 'POST', '/v2/repository/index', { ready: true });
      expect(ready.body.some((r: { name: string }) => r.name === 'broken')).toBe(false);
      const empty = await send(app, 'POST', '/v2/repository/index');
      expect(empty.status).toBe(200);
    });

    it('unknown routes under /v2 are 404 with {"error"}', async () => {
      const res = await send(app, 'GET', '/v2/nothing/here');
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/no route GET \/v2\/nothing\/here/);
    });
  });

  describe.each([
    ['', undefined],
    ['/versions/1', '1'],
  ])('model routes at /v2/models/echo%s', (suffix, version) => {
    const base = `/v2/models/echo${suffix}`;

    it('metadata names the model, its versions and platform', async () => {
      const res = await send(app, 'GET', base);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'echo', versions: ['1', '2', '10'], platform: 'nest-model-server', inputs: [], outputs: [], state: 'ready' });
    });

    it('ready is 200', async () => {
      const res = await send(app, 'GET', `${base}/ready`);
      expect([res.status, res.body.ready]).toEqual([200, true]);
    });

    it('infer echoes, with the version that served it', async () => {
      const res = await send(app, 'POST', `${base}/infer`, { id: 'req-1', ...fp32([1, 2.5]) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        model_name: 'echo',
        model_version: version ?? '10',
        id: 'req-1',
        outputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2.5] }],
      });
    });

    it('explain on a model without explain is 404', async () => {
      const res = await send(app, 'POST', `${base}/explain`, fp32([1]));
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/does not implement explain/);
    });

    it('an undeclared operation is 404', async () => {
      const res = await send(app, 'POST', `${base}/score`, fp32([1]));
      expect(res.status).toBe(404);
    });

    it('predict and the bare model route are infer (MLRun\'s routes), with the v2 answer', async () => {
      const infer = await send(app, 'POST', `${base}/infer`, fp32([1]));
      for (const path of [`${base}/predict`, base]) {
        const res = await send(app, 'POST', path, fp32([1]));
        expect([res.status, res.body.outputs, res.body.model_version]).toEqual([200, infer.body.outputs, infer.body.model_version]);
      }
    });
  });

  describe.each([
    ['', undefined, 7],
    ['/versions/2', '2', 2],
  ])('hooks, explain and operations at /v2/models/%s', (suffix, version, threshold) => {
    const base = version === undefined ? `/v2/models/sum${suffix}` : `/v2/models/sumv${suffix}`;

    it('runs preprocess → validate → predict → postprocess with per-request state and parameters', async () => {
      const res = await send(app, 'POST', `${base}/infer`, fp32([1, 2, 3]));
      expect(res.status).toBe(200);
      expect(res.body.parameters).toEqual({ hooks: 'preprocess>validate>predict>postprocess', threshold, op: 'infer' });
      expect(res.body.outputs).toEqual([
        { name: 'sum', datatype: 'FP64', shape: [1], data: [6] },
        { name: 'count', datatype: 'INT64', shape: [1], data: [3] },
      ]);
      expect(typeof res.body.id).toBe('string');
      expect(res.body.id.length).toBeGreaterThan(8);
    });

    it('a plain Error from validate is a 400 with its message', async () => {
      const res = await send(app, 'POST', `${base}/infer`, fp32([1, -2]));
      expect([res.status, res.body]).toEqual([400, { error: 'x must not hold negative values' }]);
    });

    it('explain runs the explain hook', async () => {
      const res = await send(app, 'POST', `${base}/explain`, fp32([4, 5]));
      expect(res.status).toBe(200);
      expect(res.body.outputs).toEqual([{ name: 'contributions', datatype: 'FP32', shape: [2], data: [4, 5] }]);
      expect(res.body.parameters.op).toBe('explain');
    });

    it('a declared operation gets a v2 body decoded, or any other body as request.body', async () => {
      const v2 = await send(app, 'POST', `${base}/stats`, fp32([1]));
      expect(v2.status).toBe(200);
      // The whole body too, as MLRun's op_<name>(event) gets it.
      expect(v2.body).toMatchObject({ inputs: 1, body: fp32([1]), version: version ?? null });
      const other = await send(app, 'POST', `${base}/stats`, { question: 'how many?' });
      expect(other.body).toMatchObject({ inputs: 0, body: { question: 'how many?' } });
      const none = await send(app, 'GET', `${base}/stats`);
      expect([none.status, none.body.inputs]).toEqual([200, 0]);
    });

    it('an operation returning outputs is answered as a v2 response', async () => {
      const res = await send(app, 'POST', `${base}/double`, fp32([1.5]));
      expect(res.status).toBe(200);
      expect(res.body.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1], data: [3] }]);
    });

    it('an operation may answer with a coded error', async () => {
      const res = await send(app, 'POST', `${base}/refuse`, {});
      expect([res.status, res.body]).toEqual([400, { error: 'refused on purpose' }]);
    });

    it.each(['secret', 'load', 'constructor', '__proto__', 'toString', 'unload', 'hasOwnProperty'])(
      'nothing but declared operations is reachable: %s is 404',
      async (name) => {
        const res = await send(app, 'POST', `${base}/${name}`, {});
        expect(res.status).toBe(404);
        expect(typeof res.body.error).toBe('string');
      },
    );

    it('requested outputs: only those, in the order asked', async () => {
      const res = await send(app, 'POST', `${base}/infer`, { ...fp32([1, 2]), outputs: [{ name: 'count' }] });
      expect(res.body.outputs).toEqual([{ name: 'count', datatype: 'INT64', shape: [1], data: [2] }]);
    });

    it('an unknown requested output is a 400 before the model runs', async () => {
      const res = await send(app, 'POST', `${base}/infer`, { ...fp32([1]), outputs: [{ name: 'nope' }] });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/no output 'nope'/);
    });

    it('the declared signature is checked before any hook', async () => {
      const wrongType = await send(app, 'POST', `${base}/infer`, { inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error).toMatch(/expects FP32/);
      const wrongName = await send(app, 'POST', `${base}/infer`, fp32([1], 'y'));
      expect(wrongName.body.error).toMatch(/no input 'y'/);
      const wrongRank = await send(app, 'POST', `${base}/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
      expect(wrongRank.status).toBe(400);
    });
  });

  describe('versions and readiness', () => {
    it('an unknown version is a 404 naming the known ones, on every route', async () => {
      for (const [method, path] of [
        ['GET', ''],
        ['GET', '/ready'],
        ['POST', '/infer'],
        ['POST', '/explain'],
        ['POST', '/stats'],
      ]) {
        const res = await send(app, method, `/v2/models/echo/versions/7${path}`, method === 'POST' ? fp32([1]) : undefined);
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.body.error).toMatch(/no version '7'; its versions are '1', '2', '10'/);
      }
    });

    it('an unknown model is a 404 on every route', async () => {
      for (const [method, path] of [
        ['GET', ''],
        ['GET', '/ready'],
        ['POST', '/infer'],
        ['POST', '/explain'],
        ['POST', '/op'],
      ]) {
        const res = await send(app, method, `/v2/models/ghost${path}`, method === 'POST' ? fp32([1]) : undefined);
        expect(res.status).toBe(404);
        expect(res.body.error).toMatch(/model 'ghost' is not served here/);
      }
    });

    it('the version marked default serves unversioned requests', async () => {
      const res = await send(app, 'POST', '/v2/models/pinned/infer', fp32([1]));
      expect(res.body.model_version).toBe('1');
    });

    it('a failed model answers 503 with its load error, and shows its state in metadata', async () => {
      const infer = await send(app, 'POST', '/v2/models/broken/infer', fp32([1]));
      expect(infer.status).toBe(503);
      expect(infer.body.error).toMatch(/not ready \(failed\): weights file is corrupt/);
      const ready = await send(app, 'GET', '/v2/models/broken/ready');
      expect(ready.status).toBe(503);
      const meta = await send(app, 'GET', '/v2/models/broken');
      expect(meta.body).toMatchObject({ state: 'failed', error: 'weights file is corrupt' });
    });
  });

  describe('model faults', () => {
    it('a bug in predict is a 500 naming the model, stage and request, without the model\'s error text or stack', async () => {
      const res = await send(app, 'POST', '/v2/models/buggy/infer', { id: 'bug-1', ...fp32([1]) });
      expect(res.status).toBe(500);
      expect(res.body.error).toBe("model 'buggy' failed in predict (request bug-1); details are in the server log");
      expect(res.body.error).not.toMatch(/at .*\.ts:\d+/);
    });

    it('an output whose data does not fit its shape is a 500 naming the output', async () => {
      const res = await send(app, 'POST', '/v2/models/buggy/infer', { ...fp32([1]), parameters: { mode: 'garbage' } });
      expect(res.status).toBe(500);
      expect(res.body.error).toMatch(/output 'y'/);
    });

    it('NaN cannot travel in JSON: a clear 500', async () => {
      const res = await send(app, 'POST', '/v2/models/buggy/infer', { ...fp32([1]), parameters: { mode: 'nan' } });
      expect(res.status).toBe(500);
      expect(res.body.error).toMatch(/NaN/);
    });
  });

  describe('body paths (input_path / result_path)', () => {
    it('reads the request from data.request and writes the response into result', async () => {
      const res = await send(app, 'POST', '/v2/models/nested/infer', { tag: 7, data: { request: fp32([2]) } });
      expect(res.status).toBe(200);
      expect(res.body.tag).toBe(7);
      expect(res.body.data).toEqual({ request: fp32([2]) });
      expect(res.body.result).toMatchObject({ model_name: 'nested', outputs: [{ name: 'x', data: [2] }] });
    });

    it('a body without the input path is a 400 naming it', async () => {
      const res = await send(app, 'POST', '/v2/models/nested/infer', fp32([2]));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/data\.request/);
    });
  });
});

describe.each(DOORS)('background loading (%s)', (door) => {
  it('is live at once; a model is ready when loaded; server ready when all are', async () => {
    GatedFixture.rearm();
    const app = await createApp({
      loadMode: 'background',
      models: [
        { name: 'echo', model: EchoFixture },
        { name: 'gated', model: GatedFixture },
      ],
    }, door);
    try {
      expect((await send(app, 'GET', '/v2/health/live')).status).toBe(200);
      expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(503);
      const loading = await send(app, 'POST', '/v2/models/gated/infer', fp32([1]));
      expect(loading.status).toBe(503);
      expect(loading.headers['retry-after']).toBe('5');
      expect(loading.body.error).toMatch(/loading/);
      expect((await send(app, 'POST', '/v2/models/echo/infer', fp32([1]))).status).toBe(200);
      GatedFixture.release();
      for (let i = 0; i < 50 && (await send(app, 'GET', '/v2/health/ready')).status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(200);
      expect((await send(app, 'POST', '/v2/models/gated/infer', fp32([1]))).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe.each(DOORS)('repository extension and shutdown (%s)', (door) => {
  it('unload makes the model unavailable, load brings it back; unload hooks run at shutdown', async () => {
    const app = await createApp({ models: [{ name: 'sum', model: SumFixture }], modelControl: true }, door);
    const unloaded = await send(app, 'POST', '/v2/repository/models/sum/unload', {});
    expect(unloaded.status).toBe(200);
    expect(unloaded.body.versions).toEqual([{ state: 'unloaded' }]);
    expect((await send(app, 'POST', '/v2/models/sum/infer', fp32([1]))).status).toBe(503);
    const loaded = await send(app, 'POST', '/v2/repository/models/sum/load', {});
    expect(loaded.body.versions).toEqual([{ state: 'ready' }]);
    expect((await send(app, 'POST', '/v2/models/sum/infer', fp32([1]))).status).toBe(200);
    expect((await send(app, 'POST', '/v2/repository/models/ghost/load', {})).status).toBe(404);
    await app.close();
  });

  it('a load that fails is an error answer naming the model and why, not a listing', async () => {
    const app = await createApp({ models: [{ name: 'broken', model: BrokenFixture }], modelControl: true });
    try {
      const failed = await send(app, 'POST', '/v2/repository/models/broken/load', {});
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ error: "model 'broken' did not load (failed): weights file is corrupt" });
      expect((await send(app, 'GET', '/v2/models/broken/ready')).status).toBe(503);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['text/plain', '{}', { 'content-type': 'text/plain' }],
    ['a form', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no body and no type', undefined, {}],
  ])('with modelControl, unload sent as %s is 415 and changes nothing (a cross-site form cannot unload)', async (_what, payload, headers) => {
    const app = await createApp({ models: [{ name: 'sum', model: SumFixture }], modelControl: true }, door);
    try {
      const res = await send(app, 'POST', '/v2/repository/models/sum/unload', payload, headers as Record<string, string>);
      expect(res.status).toBe(415);
      expect(res.body.error).toMatch(/application\/json/);
      expect((await send(app, 'GET', '/v2/models/sum/ready')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('without modelControl, load and unload answer 403 naming the setting and change nothing', async () => {
    const app = await createApp({ models: [{ name: 'sum', model: SumFixture }] }, door);
    try {
      for (const action of ['unload', 'load']) {
        const res = await send(app, 'POST', `/v2/repository/models/sum/${action}`, {});
        expect(res.status).toBe(403);
        expect(res.body.error).toMatch(/modelControl/);
      }
      expect((await send(app, 'GET', '/v2/models/sum/ready')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
