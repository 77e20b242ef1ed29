import { PassThrough } from 'node:stream';
import { readRequestBody } from './request-body.reader';

/** Reads `chunks` through the reader as a request stream declaring `declared`; the body or the error. */
function read(chunks: Buffer[], declared: string | undefined, limit: number): Promise<{ err: Error | null; body?: Buffer }> {
  const stream = new PassThrough();
  const result = new Promise<{ err: Error | null; body?: Buffer }>((resolve) => readRequestBody(stream, declared, limit, (err, body) => resolve({ err, body })));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  return result;
}

describe('readRequestBody', () => {
  it('joins the chunks of a body, small ones at once and large ones in slices, byte for byte', async () => {
    const small = [Buffer.from('{"a":'), Buffer.from('1}')];
    expect((await read(small, '7', 100)).body?.toString()).toBe('{"a":1}');
    const large = Array.from({ length: 160 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const { err, body } = await read(large, String(160 * 64 * 1024), 64 * 1024 * 1024);
    expect(err).toBeNull();
    expect(body!.equals(Buffer.concat(large))).toBe(true);
  });

  it('gives a one-chunk body as it came and an empty body as empty', async () => {
    const one = Buffer.from('{}');
    expect((await read([one], '2', 100)).body).toBe(one);
    expect((await read([], undefined, 100)).body).toHaveLength(0);
  });

  it('refuses a declared length over the limit before reading, and a streamed body once it passes the limit (413)', async () => {
    const declared = await read([Buffer.alloc(10)], '1000', 100);
    expect(declared.err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const streamed = await read([Buffer.alloc(60), Buffer.alloc(60)], undefined, 100);
    expect(streamed.err?.message).toMatch(/larger than 100 bytes/);
    expect(streamed.body).toBeUndefined();
  });

  it('refuses a body whose bytes differ from its Content-Length (400)', async () => {
    const { err } = await read([Buffer.from('{}')], '5', 100);
    expect(err?.message).toMatch(/has 2 bytes, not the 5 its Content-Length says/);
  });

  it('answers a stream error as a 400 and calls back once', async () => {
    const stream = new PassThrough();
    const done = jest.fn();
    readRequestBody(stream, undefined, 100, done);
    stream.write(Buffer.from('{'));
    stream.destroy(new Error('socket hang up'));
    await new Promise((r) => setImmediate(r));
    expect(done).toHaveBeenCalledTimes(1);
    expect(done.mock.calls[0][0].message).toMatch(/could not be read: socket hang up/);
  });
});
