import { createTestServer, type TestServer } from 'nest-model-server/testing';
import { SlowModel } from './slow.model';

describe('slow sample', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ models: [{ name: 'slow', model: SlowModel }] });
  });
  afterAll(() => server.close());

  const request = (delay: unknown) => ({ parameters: { delay_ms: delay }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [7] }] });

  it('echoes after the delay', async () => {
    const started = Date.now();
    const res = await server.infer('slow', request(120));
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(res.outputs[0].data).toEqual([7]);
    expect(res.parameters).toEqual({ delayed_ms: 120 });
  });

  it.each([-1, 'soon', 1e9])('refuses delay_ms %p with a 400', async (delay) => {
    await expect(server.infer('slow', request(delay))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/delay_ms/) });
  });
});
