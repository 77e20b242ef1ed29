import { Buffer } from 'node:buffer';
import { createGunzip, createInflate } from 'node:zlib';
import { status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import { copyInSlices } from '../../../codecs/time-slice.util';

type Refusal = Pick<StatusObject, 'code' | 'details'>;

/**
 * Inflates a compressed request message (`gzip` or `deflate`, from its 5-byte prefix on) within `limit`
 * bytes. It refuses as grpc-js does, with the same statuses and texts: INTERNAL for bytes that do not inflate,
 * RESOURCE_EXHAUSTED once the output passes the limit (the inflater is stopped there).
 *
 * grpc-js joins the inflated pieces with one Buffer.concat. Near the 64 MiB default limit, that first write
 * to fresh memory blocks the event loop for 200-250 ms (a page fault per page). Here the pieces are copied
 * into the message in time slices, with the event loop running in between.
 *
 * @internal
 */
export function inflateMessage(message: Buffer, encoding: 'gzip' | 'deflate', limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const inflater = encoding === 'gzip' ? createGunzip() : createInflate();
    const pieces: Buffer[] = [];
    let total = 0;
    let refused = false;
    const refuse = (status: Refusal): void => {
      refused = true;
      reject(status);
    };
    inflater.on('error', () => {
      if (!refused) refuse({ code: GrpcStatus.INTERNAL, details: 'Failed to decompress message' });
    });
    inflater.on('data', (piece: Buffer) => {
      if (refused) return;
      pieces.push(piece);
      total += piece.length;
      if (total > limit) {
        inflater.destroy();
        refuse({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${limit}` });
      }
    });
    inflater.on('end', () => {
      if (refused) return;
      if (pieces.length === 1) return resolve(pieces[0]);
      const joined = Buffer.allocUnsafe(total);
      resolve(copyInSlices(pieces, joined).then(() => joined));
    });
    inflater.end(message.subarray(5));
  });
}
