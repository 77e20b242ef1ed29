import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { deflateSync, gzipSync } from 'node:zlib';
import { parseJson } from '../libs/model-server/src/internal';
import { EchoFixture } from './fixtures/test-models';
import { lengthPrefixed } from './helpers/grpc-client';
import { createApp } from './helpers/test-app';

/** Builds a binary-framed body: JSON header, then each input's bytes. */
function framed(header: unknown, ...tails: Buffer[]): { payload: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { payload: Buffer.concat([json, ...tails]), headers: { 'inference-header-content-length': String(json.length) } };
}

function bytesElements(...items: Buffer[]): Buffer {
  return Buffer.concat(items.flatMap((b) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return [len, b];
  }));
}

/** Splits a binary response into its JSON header and tail. */
function split(res: { headers: Record<string, unknown>; rawPayload: Buffer }): { header: any; tail: Buffer } {
  const n = Number(res.headers['inference-header-content-length']);
  return { header: JSON.parse(res.rawPayload.subarray(0, n).toString()), tail: res.rawPayload.subarray(n) };
}

describe('binary tensor data extension', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }] });
  });
  afterAll(() => app.close());

  const post = (body: { payload: Buffer; headers: Record<string, string> }, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: body.payload, headers: { ...body.headers, ...headers } });

  it('reads binary inputs (no content type) and answers JSON by default', async () => {
    const f32 = Buffer.from(new Float32Array([1.5, -2, 0.25]).buffer);
    const res = await post(framed({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } }] }, f32));
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs[0]).toEqual({ name: 'x', datatype: 'FP32', shape: [3], data: [1.5, -2, 0.25] });
  });

  it('mixes JSON and binary inputs, and answers binary when binary_data_output is set', async () => {
    const i64 = Buffer.from(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]).buffer);
    const res = await post(
      framed(
        {
          parameters: { binary_data_output: true },
          inputs: [
            { name: 'a', datatype: 'INT8', shape: [2], data: [1, -1] },
            { name: 'b', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
          ],
        },
        i64,
      ),
      { 'content-type': 'application/octet-stream' },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const { header, tail } = split(res);
    expect(header.outputs).toEqual([
      { name: 'a', datatype: 'INT8', shape: [2], parameters: { binary_data_size: 2 } },
      { name: 'b', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
    ]);
    expect([...new Int8Array(tail.subarray(0, 2))]).toEqual([1, -1]);
    expect(tail.subarray(2)).toEqual(i64);
  });

  it('a per-output binary_data flag wins over the request flag', async () => {
    const res = await post(
      framed({
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'a', datatype: 'INT32', shape: [1], data: [5] },
          { name: 'b', datatype: 'INT32', shape: [1], data: [6] },
        ],
        outputs: [{ name: 'a', parameters: { binary_data: false } }, { name: 'b' }],
      }),
    );
    const { header, tail } = split(res);
    expect(header.outputs[0]).toEqual({ name: 'a', datatype: 'INT32', shape: [1], data: [5] });
    expect(header.outputs[1].parameters).toEqual({ binary_data_size: 4 });
    expect(tail.readInt32LE(0)).toBe(6);
  });

  it('BYTES carry arbitrary (non-UTF-8) bytes both ways; empty tensors have size 0', async () => {
    const raw = bytesElements(Buffer.from([0xff, 0x00, 0xfe]), Buffer.from('ok'));
    const res = await post(
      framed(
        {
          inputs: [
            { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: raw.length } },
            { name: 'e', datatype: 'FP32', shape: [0], parameters: { binary_data_size: 0 } },
          ],
          outputs: [{ name: 's', parameters: { binary_data: true } }, { name: 'e', parameters: { binary_data: true } }],
        },
        raw,
      ),
    );
    expect(res.statusCode).toBe(200);
    const { header, tail } = split(res);
    expect(header.outputs[1].parameters.binary_data_size).toBe(0);
    expect(tail).toEqual(raw);
  });

  it('a BYTES tensor over 1 MiB (split into elements in slices) echoes the same bytes; malformed, the 400 a small one gets', async () => {
    const items = Array.from({ length: 300_000 }, (_, i) => Buffer.alloc(i % 50 === 0 ? 40 : i % 7, i & 0xff));
    items.push(Buffer.alloc(5, 0x61));
    const raw = lengthPrefixed(items);
    expect(raw.length).toBeGreaterThan(1024 * 1024);
    const header = (size: number, count = items.length) => ({
      inputs: [{ name: 's', datatype: 'BYTES', shape: [count], parameters: { binary_data_size: size } }],
      outputs: [{ name: 's', parameters: { binary_data: true } }],
    });
    const res = await post(framed(header(raw.length), raw));
    expect(res.statusCode).toBe(200);
    expect(split(res).tail.equals(raw)).toBe(true);
    const broken = Buffer.from(raw);
    broken.writeUInt32LE(0xffff, raw.length - 4 - 5); // the last element (5 bytes) declares more than is left
    const large = await post(framed(header(broken.length), broken));
    const smallBroken = bytesElements(Buffer.from('ok'), Buffer.alloc(5));
    smallBroken.writeUInt32LE(0xffff, 6);
    const small = await post(framed(header(smallBroken.length, 2), smallBroken));
    expect(large.statusCode).toBe(400);
    expect(large.json().error).toBe(`input 's': raw BYTES element ${items.length - 1} declares 65535 bytes, but only 5 remain`);
    expect(small.json().error).toBe("input 's': raw BYTES element 1 declares 65535 bytes, but only 5 remain");
  });

  it.each([
    ['tail shorter than declared', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] }, Buffer.alloc(4), /only 4 remain/],
    ['tail longer than declared', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }, Buffer.alloc(8), /4 bytes after/],
    ['size not matching the shape', { inputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 8 } }] }, Buffer.alloc(8), /12|8/],
    ['both data and binary size', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1], parameters: { binary_data_size: 4 } }] }, Buffer.alloc(4), /both/],
  ])('%s is a 400', async (_what, header, tail, message) => {
    const res = await post(framed(header, tail));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(message);
  });

  it('a header length beyond the body is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      payload: '{"inputs":[]}',
      headers: { 'inference-header-content-length': '999' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/inference-header-content-length/);
  });

  /** One tensor of each datatype, as raw little-endian bytes and as the JSON values they hold. */
  const EVERY_DATATYPE: [string, Buffer, unknown[]][] = [
    ['BOOL', Buffer.from([1, 0, 1]), [true, false, true]],
    ['UINT8', Buffer.from([0, 255, 7]), [0, 255, 7]],
    ['UINT16', Buffer.from(new Uint16Array([0, 65535, 7]).buffer), [0, 65535, 7]],
    ['UINT32', Buffer.from(new Uint32Array([0, 4294967295, 7]).buffer), [0, 4294967295, 7]],
    ['UINT64', Buffer.from(new BigUint64Array([0n, 2n ** 64n - 1n, 7n]).buffer), [0, 2n ** 64n - 1n, 7]],
    ['INT8', Buffer.from(new Int8Array([-128, 127, 7]).buffer), [-128, 127, 7]],
    ['INT16', Buffer.from(new Int16Array([-32768, 32767, 7]).buffer), [-32768, 32767, 7]],
    ['INT32', Buffer.from(new Int32Array([-2147483648, 2147483647, 7]).buffer), [-2147483648, 2147483647, 7]],
    ['INT64', Buffer.from(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 7n]).buffer), [-(2n ** 63n), 2n ** 63n - 1n, 7]],
    ['FP16', Buffer.from(new Uint16Array([0x3e00, 0xc000, 0x7bff]).buffer), [1.5, -2, 65504]],
    ['BF16', Buffer.from(new Uint16Array([0x3fc0, 0xc000, 0x4120]).buffer), [1.5, -2, 10]],
    ['FP32', Buffer.from(new Float32Array([1.5, -2, 3.4028234663852886e38]).buffer), [1.5, -2, 3.4028235e38]],
    ['FP64', Buffer.from(new Float64Array([Math.PI, -0, 1e-310]).buffer), [Math.PI, -0, 1e-310]],
    ['BYTES', bytesElements(Buffer.from([0xc3, 0x28]), Buffer.from(''), Buffer.from('ok')), [null, '', 'ok']],
  ];

  function everyDatatype(binaryOut: boolean) {
    return framed(
      {
        parameters: { binary_data_output: binaryOut },
        inputs: EVERY_DATATYPE.map(([dt, raw]) => ({ name: dt.toLowerCase(), datatype: dt, shape: [3], parameters: { binary_data_size: raw.length } })),
      },
      ...EVERY_DATATYPE.map(([, raw]) => raw),
    );
  }

  it('every datatype goes in binary and comes back binary, byte for byte', async () => {
    const res = await post(everyDatatype(true));
    expect(res.statusCode).toBe(200);
    const { header, tail } = split(res);
    let offset = 0;
    for (const [i, [dt, raw]] of EVERY_DATATYPE.entries()) {
      expect(header.outputs[i]).toEqual({ name: dt.toLowerCase(), datatype: dt, shape: [3], parameters: { binary_data_size: raw.length } });
      expect(tail.subarray(offset, offset + raw.length)).toEqual(raw);
      offset += raw.length;
    }
    expect(offset).toBe(tail.length);
  });

  it('every datatype goes in binary and comes back as JSON values', async () => {
    const res = await post(everyDatatype(false));
    expect(res.statusCode).toBe(200);
    const outputs = parseJson(res.body) as { outputs: { datatype: string; data: unknown[] }[] };
    for (const [i, [dt, , values]] of EVERY_DATATYPE.entries()) {
      if (dt === 'BYTES') {
        // Not UTF-8: JSON can only carry its replacement character; binary keeps the bytes (above).
        expect(outputs.outputs[i].data.slice(1)).toEqual(['', 'ok']);
        continue;
      }
      expect([outputs.outputs[i].datatype, outputs.outputs[i].data]).toEqual([dt, values]);
    }
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ])('a %s-compressed binary body is inflated before its framing is read', async (encoding, compress) => {
    const body = everyDatatype(true);
    const res = await post({ payload: compress(body.payload), headers: body.headers }, { 'content-encoding': encoding });
    expect(res.statusCode).toBe(200);
    const { tail } = split(res);
    expect(tail).toEqual(Buffer.concat(EVERY_DATATYPE.map(([, raw]) => raw)));
  });

  it.each([
    ['gzip', gzipSync, '{"inputs":', {}],
    ['deflate', deflateSync, '{"inputs":', {}],
    ['gzip', gzipSync, '{"inputs":[]}', {}],
    ['gzip', gzipSync, '{"inputs":[]}xx', { 'inference-header-content-length': '99' }],
    ['deflate', deflateSync, 'not json', { 'inference-header-content-length': 'x' }],
  ])('a %s body that inflates to %j (framing %j) is a 400, and the server keeps answering', async (encoding, compress, text, framing) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      payload: compress(Buffer.from(text)),
      headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...framing },
    });
    expect(res.statusCode).toBe(400);
    expect(typeof res.json().error).toBe('string');
    expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
  });

  it.each([
    ['no content type', {}],
    ['curl\'s form content type', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('a JSON request with %s is read as JSON', async (_what, headers) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      payload: '{"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[5]}]}',
      headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs[0].data).toEqual([5]);
  });
});
