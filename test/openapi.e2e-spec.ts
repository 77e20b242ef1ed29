import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { chromium } from 'playwright-core';
import { EchoFixture, SumFixture } from './fixtures/test-models';
import { createApp, send } from './helpers/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('OpenAPI description and /docs', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }, { name: 'sum', model: SumFixture }] });
  });
  afterAll(() => app.close());

  it('GET /openapi.json describes the v2 routes with and without versions, models as examples', async () => {
    const res = await send(app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = Object.keys(res.body.paths);
    for (const p of ['/v2', '/v2/health/live', '/v2/health/ready', '/v2/models', '/v2/repository/index', '/v2/models/{model}/infer', '/v2/models/{model}/versions/{version}/infer', '/v2/models/{model}/explain', '/v2/models/{model}/ready', '/v2/models/{model}/{member}/infer']) {
      expect(paths).toContain(p);
    }
    const examples = res.body.paths['/v2/models/{model}/infer'].post.requestBody.content['application/json'].examples;
    expect(examples.sum.value).toEqual({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(examples.echo.value.inputs[0].datatype).toBe('FP32');
    expect(res.body.info.description).toMatch(/\*\*sum\*\* \(nest-model-server; \(unversioned\): ready\) inputs: x FP32 \[-1\]/);
  });

  it('GET /docs is an HTML page', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  const browserIt = existsSync(CHROMIUM) ? it : it.skip;
  if (!existsSync(CHROMIUM)) {
    console.warn(`SKIPPED: the /docs browser test needs Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  }

  browserIt('in headless Chromium the page lists the infer route, and trying it answers', async () => {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/docs`);
      const infer = page.locator('details.route[data-method="POST"][data-path="/v2/models/{model}/infer"]');
      await infer.waitFor({ timeout: 10000 });
      expect(await infer.locator('summary').innerText()).toMatch(/POST\s+\/v2\/models\/\{model\}\/infer\s+Inference/);
      await infer.locator('summary').click();
      await infer.locator('input[name="model"]').fill('echo');
      await infer.locator('button').click();
      await infer.locator('pre').filter({ hasText: '200' }).waitFor({ timeout: 10000 });
      expect(await infer.locator('pre').innerText()).toMatch(/^200 OK\n\{"model_name":"echo"/);
    } finally {
      await browser.close();
    }
  });
});
