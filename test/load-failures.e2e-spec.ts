import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServer, type InferenceResult } from 'nest-model-server';
import { createApp, send } from './helpers/test-app';

/** Reads weights that are not there: its load fails with an error naming the absolute path. */
class MissingWeights extends ModelServer {
  async load(): Promise<void> {
    await this.context.readFile('weights.bin');
  }
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

describe('a failed load shows clients its reason without absolute paths', () => {
  const modelPath = mkdtempSync(join(tmpdir(), 'load-failure-'));
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ modelControl: true, models: [{ name: 'missing', model: MissingWeights, modelPath }] });
  });
  afterAll(async () => {
    await app.close();
    rmSync(modelPath, { recursive: true, force: true });
  });

  it('in metadata, the listing, the repository index, 503 answers and load answers', async () => {
    const reason = /ENOENT: no such file or directory, realpath '…\/weights\.bin'/;
    const answers = [
      JSON.stringify((await send(app, 'GET', '/v2/models/missing')).body),
      JSON.stringify((await send(app, 'GET', '/v2/models')).body),
      JSON.stringify((await send(app, 'POST', '/v2/repository/index', {})).body),
      JSON.stringify((await send(app, 'POST', '/v2/models/missing/infer', { inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] })).body),
      JSON.stringify((await send(app, 'POST', '/v2/repository/models/missing/load', {})).body),
    ];
    for (const text of answers) {
      expect(text).toMatch(reason);
      expect(text).not.toContain(modelPath);
    }
    const load = await send(app, 'POST', '/v2/repository/models/missing/load', {});
    expect(load.status).toBe(503);
    expect(load.body).toEqual({ error: expect.stringMatching(/^model 'missing' did not load \(failed\): Error: ENOENT/) });
    const meta = await send(app, 'GET', '/v2/models/missing');
    expect(meta.body).toMatchObject({ state: 'failed', error: expect.stringMatching(reason) });
  });
});
