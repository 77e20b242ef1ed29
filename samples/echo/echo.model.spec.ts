import { createTestServer, type TestServer } from 'nest-model-server/testing';
import { EchoModel } from './echo.model';

describe('echo sample', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ models: [{ name: 'echo', model: EchoModel }] });
  });
  afterAll(() => server.close());

  it('returns each input unchanged, in order', async () => {
    const res = await server.infer('echo', {
      id: 'abc',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 2], data: [[1.5, -2], [0.1, 3e38]] },
        { name: 'b', datatype: 'BYTES', shape: [1], data: ['héllo'] },
        { name: 'c', datatype: 'BOOL', shape: [], data: [true] },
      ],
    });
    expect(res).toEqual({
      model_name: 'echo',
      id: 'abc',
      outputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 2], data: [1.5, -2, 0.1, 3e38] },
        { name: 'b', datatype: 'BYTES', shape: [1], data: ['héllo'] },
        { name: 'c', datatype: 'BOOL', shape: [], data: [true] },
      ],
    });
  });

  it('keeps 64-bit integers exact', async () => {
    const res = await server.infer('echo', {
      inputs: [{ name: 'x', datatype: 'UINT64', shape: [2], data: [0, 18446744073709551615n] }],
    });
    expect(res.outputs[0].data).toEqual([0, 18446744073709551615n]);
  });
});
