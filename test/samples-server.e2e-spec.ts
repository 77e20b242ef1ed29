import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadServerConfig } from '../src/config/server-config';
import { createServer } from '../src/server';
import { send } from './helpers/test-app';

/** The server `npm start` runs: the samples config, through the CLI's own config loading. */
describe('the samples server (npm start)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    const config = loadServerConfig({}, {}, join(__dirname, '..', 'samples', 'models.yaml'));
    app = await createServer(config, { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('is ready with every sample model loaded', async () => {
    expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(200);
    const names = (await send(app, 'GET', '/v2/models')).body.models.map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'iris', 'scorecard', 'textgen']));
  });

  it('echo answers on both versions', async () => {
    const body = { inputs: [{ name: 'x', datatype: 'UINT64', shape: [1], data: [18446744073709551615n] }] };
    for (const [url, version] of [
      ['/v2/models/echo/infer', '2'],
      ['/v2/models/echo/versions/1/infer', '1'],
    ]) {
      const res = await send(app, 'POST', url, JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `#${v}#` : v)).replace(/"#(\d+)#"/g, '$1'), {
        'content-type': 'application/json',
      });
      expect([res.status, res.body.model_version, res.body.outputs[0].data]).toEqual([200, version, [18446744073709551615n]]);
    }
  });

  it('iris classifies a setosa and explains a prediction', async () => {
    const body = { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };
    const res = await send(app, 'POST', '/v2/models/iris/infer', body);
    expect(res.status).toBe(200);
    expect(res.body.outputs.find((o: { name: string }) => o.name === 'label').data).toEqual(['setosa']);
    const explained = await send(app, 'POST', '/v2/models/iris/explain', body);
    expect(explained.status).toBe(200);
    expect(explained.body.outputs.find((o: { name: string }) => o.name === 'contributions').shape).toEqual([1, 4]);
  });

  it('scorecard serves its custom operation', async () => {
    const res = await send(app, 'POST', '/v2/models/scorecard/weights');
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('coefficients');
  });

  it('textgen streams words over generate_stream and the OpenAI routes, and answers whole on /generate', async () => {
    const body = { text_input: 'Alice was', parameters: { max_tokens: 4, seed: 1, delay_ms: 0 } };
    const whole = await send(app, 'POST', '/v2/models/textgen/generate', body);
    expect(whole.status).toBe(200);
    expect(whole.body.text_output.trim().split(' ')).toHaveLength(4);
    const streamed = await send(app, 'POST', '/v2/models/textgen/generate_stream', body);
    const events = String(streamed.body).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.map((e) => JSON.parse(e.slice(6)).text_output).join('')).toBe(whole.body.text_output);
    const models = await send(app, 'GET', '/openai/v1/models');
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(['textgen']);
  });
});
