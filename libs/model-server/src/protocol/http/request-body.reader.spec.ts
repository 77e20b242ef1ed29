import { PassThrough } from 'node:stream';
import { bodyReading, bodyTakesTurn, endBodyTurn, readRequestBody, TURN_BODY_BYTES } from './request-body.reader';

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
    // Declared: copied as the chunks come; not declared (chunked): joined at the end, in slices.
    for (const declared of [String(160 * 64 * 1024), undefined]) {
      const { err, body } = await read(large, declared, 64 * 1024 * 1024);
      expect(err).toBeNull();
      expect(body!.equals(Buffer.concat(large))).toBe(true);
    }
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

  it('places binary tensor data on an 8-byte boundary when it joins a body, whatever the length of the JSON part', async () => {
    for (const jsonLength of [0, 1, 5, 7, 61]) {
      const chunks = [Buffer.alloc(3000, 1), Buffer.alloc(5000, 2), Buffer.alloc(64 * 1024 + 3, 3)];
      const stream = new PassThrough();
      const headers = { 'inference-header-content-length': String(jsonLength), 'content-type': 'application/octet-stream' };
      const result = new Promise<{ err: Error | null; body?: Buffer }>((resolve) =>
        readRequestBody(stream, undefined, 1 << 20, (err, body) => resolve({ err, body }), bodyReading(headers)),
      );
      for (const chunk of chunks) stream.write(chunk);
      stream.end();
      const { err, body } = await result;
      expect(err).toBeNull();
      expect(body!.equals(Buffer.concat(chunks))).toBe(true);
      expect((body!.byteOffset + jsonLength) % 8).toBe(0);
    }
  });

  it('reads the turn and the binary data offset from the headers', () => {
    expect(bodyReading({ 'content-type': 'application/json' })).toEqual({ turn: true, alignAt: -1 });
    expect(bodyReading({ 'inference-header-content-length': '120' })).toEqual({ turn: false, alignAt: 120 });
    expect(bodyReading({ 'inference-header-content-length': 'x' })).toEqual({ turn: false, alignAt: -1 });
    expect(bodyReading({ 'content-type': 'application/octet-stream' })).toEqual({ turn: false, alignAt: -1 });
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

describe('large text bodies take turns', () => {
  const LARGE = TURN_BODY_BYTES + 10;
  const tick = () => new Promise((r) => setImmediate(r));

  /** A request stream whose whole body is already written; `done` records the reader's answer. */
  function request(bytes: number, turn = true) {
    const stream = new PassThrough();
    const done = jest.fn();
    readRequestBody(stream, String(bytes), 64 * 1024 * 1024, done, { turn, alignAt: -1 });
    stream.end(Buffer.alloc(bytes, 1));
    return { stream, done };
  }

  it('reads a large body only once the one before it has been answered', async () => {
    const first = request(LARGE);
    const second = request(LARGE);
    await tick();
    expect(first.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    expect(second.done).not.toHaveBeenCalled();
    expect(second.stream.readableLength).toBe(LARGE); // not even read: its bytes wait where they are
    endBodyTurn(first.stream);
    await tick();
    expect(second.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    expect((second.done.mock.calls[0][1] as Buffer).length).toBe(LARGE);
    endBodyTurn(second.stream);
  });

  it('reads small bodies, and bodies that take no turn, at once', async () => {
    const large = request(LARGE);
    const small = request(1000);
    const binary = request(LARGE, false);
    await tick();
    expect(small.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    expect(binary.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    endBodyTurn(large.stream);
  });

  it('passes the turn on when the answer does not come in time, and ends it at a body that cannot be read', async () => {
    const stalled = request(LARGE);
    const failing = new PassThrough();
    const failed = jest.fn();
    readRequestBody(failing, String(LARGE), 64 * 1024 * 1024, failed, { turn: true, alignAt: -1 });
    const last = request(LARGE);
    await tick();
    expect(failed).not.toHaveBeenCalled();
    // No answer for the stalled request: after its turn's time (100 ms + 1 ms per 50 KB) the next body is read.
    await new Promise((r) => setTimeout(r, 200));
    failing.destroy(new Error('socket hang up'));
    await tick();
    expect(failed.mock.calls[0][0].message).toMatch(/could not be read/);
    expect(last.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    endBodyTurn(stalled.stream);
    endBodyTurn(last.stream);
  });

  it('gives no turn to a request whose client went away while it waited', async () => {
    const first = request(LARGE);
    const gone = request(LARGE);
    const third = request(LARGE);
    gone.stream.destroy();
    endBodyTurn(first.stream);
    await tick();
    expect(third.done).toHaveBeenCalledWith(null, expect.any(Buffer));
    endBodyTurn(third.stream);
  });

  it('reads a body that has waited 2 s for its turn beside the others', async () => {
    // Declared 64 MiB each, nothing sent: every turn lasts its longest (about 1.4 s).
    const declared = 64 * 1024 * 1024;
    const waiting = () => {
      const stream = new PassThrough();
      readRequestBody(stream, String(declared), declared, jest.fn(), { turn: true, alignAt: -1 });
      return stream;
    };
    const [holder, next, patient] = [waiting(), waiting(), waiting()];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await wait(1700);
    expect(next.readableFlowing).toBe(true); // its turn: the holder's ended after ~1.4 s
    expect(patient.readableFlowing).toBeNull(); // still waiting behind it
    await wait(500);
    expect(patient.readableFlowing).toBe(true); // 2 s of waiting: read beside the one whose turn it is
    for (const stream of [holder, next, patient]) {
      endBodyTurn(stream);
      stream.destroy();
    }
  });

  it('is for text bodies: not the binary tensor extension, not application/octet-stream', () => {
    expect(bodyTakesTurn({ 'content-type': 'application/json' })).toBe(true);
    expect(bodyTakesTurn({})).toBe(true);
    expect(bodyTakesTurn({ 'content-type': 'application/json', 'inference-header-content-length': '120' })).toBe(false);
    expect(bodyTakesTurn({ 'content-type': 'application/octet-stream' })).toBe(false);
  });
});
