import { GrpcMessageReader } from './grpc-message.reader';

/** One message as it travels: the compressed flag, the length (4 bytes, big-endian), the payload. */
function framed(payload: Buffer, compressed = false): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** Payload bytes that differ from one position to the next. */
function payload(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('GrpcMessageReader', () => {
  const messages = [framed(payload(300, 1)), framed(Buffer.alloc(0)), framed(payload(7, 2), true), framed(payload(1, 3))];
  const wire = Buffer.concat(messages);

  it('returns each message, prefix included, wherever the stream is cut in two', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const reader = new GrpcMessageReader(1024);
      const read = [...reader.write(wire.subarray(0, cut)), ...reader.write(wire.subarray(cut))];
      expect(read).toEqual(messages);
    }
  });

  it('returns each message when the stream comes one byte at a time, or all at once', () => {
    const reader = new GrpcMessageReader(1024);
    const read: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) read.push(...reader.write(wire.subarray(i, i + 1)));
    expect(read).toEqual(messages);
    expect(new GrpcMessageReader(1024).write(wire)).toEqual(messages);
  });

  it('keeps no frame: later changes to a chunk do not reach a message read from it', () => {
    const chunk = Buffer.from(messages[0]);
    const [read] = new GrpcMessageReader(1024).write(chunk);
    chunk.fill(0);
    expect(read).toEqual(messages[0]);
  });

  it("refuses a message over the limit from its prefix, with grpc-js's text, and accepts one at the limit", () => {
    const reader = new GrpcMessageReader(300);
    expect(reader.write(messages[0])).toEqual([messages[0]]);
    const over = framed(payload(301, 4)).subarray(0, 5);
    expect(() => reader.write(over)).toThrow(/^Received message larger than max \(301 vs 300\)$/);
  });
});
