import { gzipSync, deflateSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EchoFixture } from './fixtures/test-models';
import { createApp, DOORS, send } from './helpers/test-app';

/** One tensor per datatype, with its extremes; each must echo exactly (floats as their shortest round-trip text). */
const EXTREMES: [string, string, string?][] = [
  ['BOOL', '[true,false]'],
  ['UINT8', '[0,255]'],
  ['UINT16', '[0,65535]'],
  ['UINT32', '[0,4294967295]'],
  ['UINT64', '[0,18446744073709551615]'],
  ['INT8', '[-128,127]'],
  ['INT16', '[-32768,32767]'],
  ['INT32', '[-2147483648,2147483647]'],
  ['INT64', '[-9223372036854775808,9223372036854775807]'],
  ['FP16', '[-65504,65504]'],
  ['BF16', '[-1.5,3]'],
  ['FP32', '[3.4028234663852886e+38,1e-45]', '[3.4028235e+38,1e-45]'],
  ['FP64', '[1.7976931348623157e+308,5e-324]'],
  ['BYTES', '["héllo","\\u0000x"]'],
];

describe.each(DOORS)('v2 payloads over REST (%s)', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], maxBodyBytes: 4096 }, door);
  });
  afterAll(() => app.close());

  const infer = (body: unknown, headers: Record<string, string> = {}) => send(app, 'POST', '/v2/models/echo/infer', body, headers);

  it.each(EXTREMES)('%s extremes echo exactly through JSON', async (datatype, data, expected = data) => {
    const text = `{"inputs":[{"name":"t","datatype":"${datatype}","shape":[2],"data":${data}}]}`;
    const res = await infer(text, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.raw.toString('utf8')).toContain(`{"name":"t","datatype":"${datatype}","shape":[2],"data":${expected}}`);
  });

  it.each([
    ['UINT8', 256, /out of range for UINT8/],
    ['UINT8', -1, /out of range for UINT8/],
    ['INT8', 128, /out of range for INT8/],
    ['INT32', 1.5, /INT32/],
    ['UINT64', '18446744073709551616', /UINT64/],
    ['INT64', '9223372036854775808', /INT64/],
    ['FP16', 65520, /FP16/],
    ['FP32', '3.5e38', /FP32/],
    ['BOOL', '"yes"', /BOOL/],
    ['BYTES', 5, /BYTES/],
  ])('%s value %s is a 400', async (datatype, value, message) => {
    const res = await infer(`{"inputs":[{"name":"t","datatype":"${datatype}","shape":[1],"data":[${value}]}]}`, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });

  it('nested data is read row-major', async () => {
    const res = await infer({ inputs: [{ name: 't', datatype: 'INT32', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]] }] });
    expect(res.body.outputs[0]).toEqual({ name: 't', datatype: 'INT32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] });
  });

  it('scalars and empty tensors are legal', async () => {
    const res = await infer({
      inputs: [
        { name: 's', datatype: 'FP64', shape: [], data: [2.5] },
        { name: 'e', datatype: 'FP32', shape: [0], data: [] },
        { name: 'e2', datatype: 'INT8', shape: [3, 0], data: [] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.outputs.map((o: { shape: number[]; data: unknown[] }) => [o.shape, o.data])).toEqual([
      [[], [2.5]],
      [[0], []],
      [[3, 0], []],
    ]);
  });

  it('a generated id is a fresh UUID each time; a given one is echoed', async () => {
    const a = await infer({ inputs: [{ name: 't', datatype: 'INT8', shape: [1], data: [1] }] });
    const b = await infer({ inputs: [{ name: 't', datatype: 'INT8', shape: [1], data: [1] }] });
    expect(a.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body.id).not.toBe(b.body.id);
    const c = await infer({ id: 'mine', inputs: [{ name: 't', datatype: 'INT8', shape: [1], data: [1] }] });
    expect(c.body.id).toBe('mine');
  });

  it('absent optional fields are omitted, never null', async () => {
    const res = await infer({ inputs: [{ name: 't', datatype: 'INT8', shape: [1], data: [1] }] });
    expect(res.raw.toString()).not.toContain('null');
    expect(Object.keys(res.body).sort()).toEqual(['id', 'model_name', 'outputs']);
  });

  describe('malformed requests are 4xx with {"error"}', () => {
    it.each([
      ['malformed JSON', '{"inputs": [', 400, /malformed JSON/],
      ['empty body', '', 400, /empty/],
      ['not an object', '[1,2]', 400, /must be object/],
      ['no inputs', '{}', 400, /inputs/],
      ['empty inputs', '{"inputs":[]}', 400, /inputs/],
      ['input without datatype', '{"inputs":[{"name":"t","shape":[1],"data":[1]}]}', 400, /datatype/],
      ['input without name', '{"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]}', 400, /name/],
      ['shape not an array', '{"inputs":[{"name":"t","datatype":"FP32","shape":3,"data":[1]}]}', 400, /shape/],
      ['negative dim', '{"inputs":[{"name":"t","datatype":"FP32","shape":[-1],"data":[1]}]}', 400, /shape/],
      ['fractional dim', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1.5],"data":[1]}]}', 400, /shape/],
      ['unknown datatype', '{"inputs":[{"name":"t","datatype":"FLOAT","shape":[1],"data":[1]}]}', 400, /datatype 'FLOAT'/],
      ['count below shape', '{"inputs":[{"name":"t","datatype":"FP32","shape":[2,2],"data":[1,2,3]}]}', 400, /4 elements/],
      ['count above shape', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1,2]}]}', 400, /1 element/],
      ['no data', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1]}]}', 400, /data/],
      ['string in FP32', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":["a"]}]}', 400, /FP32/],
      ['duplicate input', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1]},{"name":"t","datatype":"FP32","shape":[1],"data":[1]}]}', 400, /twice/],
      ['id not a string', '{"id":5,"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1]}]}', 400, /id/],
      ['huge shape', '{"inputs":[{"name":"t","datatype":"FP32","shape":[4294967296,4294967296],"data":[1]}]}', 400, /shape/],
      ['outputs not a list', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1]}],"outputs":{}}', 400, /outputs/],
      ['unknown requested output', '{"inputs":[{"name":"t","datatype":"FP32","shape":[1],"data":[1]}],"outputs":[{"name":"u"}]}', 400, /no output 'u'/],
    ])('%s', async (_what, body, status, message) => {
      const res = await infer(body, { 'content-type': 'application/json' });
      expect(res.status).toBe(status);
      expect(res.body.error).toMatch(message);
    });

    it('a body over the limit is 413 naming the setting', async () => {
      const data = new Array(3000).fill(1);
      const res = await infer({ inputs: [{ name: 't', datatype: 'FP32', shape: [3000], data }] });
      expect(res.status).toBe(413);
      expect(res.body.error).toMatch(/maxBodyBytes/);
    });

    it('an unsupported content type is 415', async () => {
      const res = await infer('a,b\n1,2', { 'content-type': 'text/csv' });
      expect(res.status).toBe(415);
      expect(res.body.error).toMatch(/text\/csv/);
    });

    it('an unsupported content encoding is 415', async () => {
      const res = await infer('{}', { 'content-type': 'application/json', 'content-encoding': 'br' });
      expect(res.status).toBe(415);
    });

    it('__proto__ keys do not pollute prototypes', async () => {
      const res = await infer('{"__proto__":{"polluted":true},"inputs":[{"name":"t","datatype":"INT8","shape":[1],"data":[1],"parameters":{"__proto__":{"x":1}}}]}', {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('content types and encodings real clients send', () => {
    const body = '{"inputs":[{"name":"t","datatype":"INT8","shape":[1],"data":[7]}]}';
    it.each([
      ['no content type', {}],
      ['curl form type', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['json with charset', { 'content-type': 'application/json; charset=utf-8' }],
    ])('%s is read as JSON', async (_what, headers) => {
      const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: body, headers });
      expect(res.statusCode).toBe(200);
      expect(res.json().outputs[0].data).toEqual([7]);
    });

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
    ])('%s request bodies are inflated', async (encoding, compress) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/echo/infer',
        payload: compress(Buffer.from(body)),
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().outputs[0].data).toEqual([7]);
    });

    it('the limit applies after inflation (a gzip bomb is 413)', async () => {
      const bomb = gzipSync(Buffer.from(`{"inputs":[{"name":"t","datatype":"INT8","shape":[1],"data":[1]}],"pad":"${'a'.repeat(100000)}"}`));
      expect(bomb.length).toBeLessThan(4096);
      const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: bomb, headers: { 'content-encoding': 'gzip' } });
      expect(res.statusCode).toBe(413);
    });

    it('corrupt gzip is a 400', async () => {
      const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: 'not gzip', headers: { 'content-encoding': 'gzip' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(/gzip/);
    });
  });
});

describe.each(DOORS)('leniency real clients need (%s)', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }] }, door);
  });
  afterAll(() => app.close());

  it('null optional fields read as absent, and extra fields (KServe sends model_name) are ignored', async () => {
    const res = await send(app, 'POST', '/v2/models/echo/infer', {
      id: null,
      model_name: 'echo',
      parameters: null,
      outputs: null,
      inputs: [{ name: 't', datatype: 'int32', shape: [1], data: [5], parameters: null }],
    });
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual([{ name: 't', datatype: 'INT32', shape: [1], data: [5] }]);
    expect(typeof res.body.id).toBe('string');
  });
});
