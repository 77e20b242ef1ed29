import { deflateSync, gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { inflateMessage } from './grpc-message.inflater';

/** A compressed message as it travels: flag 1, the compressed length, the compressed bytes. */
function framed(compressed: Buffer): Buffer {
  const prefix = Buffer.from([1, 0, 0, 0, 0]);
  prefix.writeUInt32BE(compressed.length, 1);
  return Buffer.concat([prefix, compressed]);
}

/** Bytes that differ from one position to the next, so a misplaced piece shows. */
function payload(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i += 4) b.writeUInt32LE(i, i);
  return b;
}

describe('inflateMessage', () => {
  it('inflates gzip and deflate messages, from one piece to many (zlib gives 16 KiB at a time)', async () => {
    for (const length of [0, 100, 16 * 1024, 3 * 1024 * 1024 + 12]) {
      const plain = payload(length);
      expect((await inflateMessage(framed(gzipSync(plain)), 'gzip', 4 * 1024 * 1024)).equals(plain)).toBe(true);
      expect((await inflateMessage(framed(deflateSync(plain)), 'deflate', 4 * 1024 * 1024)).equals(plain)).toBe(true);
    }
  });

  it("refuses, with grpc-js's statuses and texts, bytes that do not inflate and a message inflating past the limit", async () => {
    await expect(inflateMessage(framed(Buffer.from('not gzip at all')), 'gzip', 1024)).rejects.toEqual({ code: status.INTERNAL, details: 'Failed to decompress message' });
    const bomb = framed(gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    await expect(inflateMessage(bomb, 'gzip', 1024 * 1024)).rejects.toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: 'Received message that decompresses to a size larger than 1048576',
    });
    const atLimit = payload(1024 * 1024);
    expect((await inflateMessage(framed(gzipSync(atLimit)), 'gzip', 1024 * 1024)).equals(atLimit)).toBe(true);
  });
});
