import { createGunzip, createInflate } from 'node:zlib';
import { status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import { CHECK_EVERY, COPY_CHUNK, runSliced, WorkSlicer, type SlicedWork } from './work-slicer.util';

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
      const slicer = new WorkSlicer();
      resolve(runSliced(joinPieces(pieces, total, slicer), slicer));
    });
    inflater.end(message.subarray(5));
  });
}

/** Empty, in place of a piece already copied. */
const EMPTY = Buffer.alloc(0);

/** Work units per byte copied: the clock is read every {@link COPY_CHUNK} bytes, as by `copySliced`. */
const UNITS_PER_BYTE = CHECK_EVERY / COPY_CHUNK;

/** The pieces in one buffer, copied piece by piece (a piece is zlib's chunk, 16 KiB). */
function* joinPieces(pieces: Buffer[], total: number, s: WorkSlicer): SlicedWork<Buffer> {
  if (pieces.length === 1) return pieces[0];
  const joined = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    piece.copy(joined, at);
    at += piece.length;
    pieces[i] = EMPTY; // released as soon as it is copied
    if (at < total && s.due(Math.ceil(piece.length * UNITS_PER_BYTE))) yield;
  }
  return joined;
}
