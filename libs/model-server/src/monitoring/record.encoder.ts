import { Buffer } from 'node:buffer';
import type { MonitoringRecord } from './monitoring-record.interface';

/**
 * Bytes of one arena chunk: about two thousand records of a small model. Chunks are few and freed seldom:
 * each free of a large block makes the C allocator merge its lists of small free blocks, which took about 1%
 * of a busy server's time with 256 KB chunks.
 */
const CHUNK_BYTES = 1024 * 1024;
/** Emptied chunks kept for reuse: enough for the chunk being filled while batches from others are written. */
const SPARE_CHUNKS = 4;
const NEWLINE = 0x0a;

/** A chunk of an encoder's arena and how many records in it are not released yet. @internal */
export class ArenaChunk {
  pending = 0;
  constructor(
    readonly bytes: Buffer,
    readonly arena: RecordEncoder,
  ) {}
}

/**
 * A record whose JSON body is already UTF-8 bytes in an arena chunk, followed by a newline. Built-in sinks
 * write the bytes ({@link bytes}, or {@link lines} for runs of records); `body` decodes them for sinks that
 * want text. Waiting records are then one small object each, not a tree of string pieces the garbage
 * collector has to copy and a sink has to flatten later.
 *
 * @publicApi
 */
export class EncodedRecord implements MonitoringRecord {
  /** The arena chunk that holds the bytes until the record is released ({@link RecordEncoder.release}). @internal */
  slot: ArenaChunk | null = null;

  constructor(
    private readonly chunk: Buffer,
    private readonly start: number,
    private readonly end: number,
    readonly cloudEvent?: Readonly<Record<string, string>>,
  ) {}

  /** The JSON text (decoded on each read). */
  get body(): string {
    return this.chunk.toString('utf8', this.start, this.end);
  }

  /** Size of the body in bytes. */
  get byteLength(): number {
    return this.end - this.start;
  }

  /** The body's bytes (a view, no copy). */
  bytes(): Buffer {
    return this.chunk.subarray(this.start, this.end);
  }

  /**
   * The records as JSON lines (each body then `\n`), as few views as possible: records encoded one after
   * another share their chunk, so a batch is usually one or two views and nothing is copied.
   */
  static lines(records: readonly EncodedRecord[]): Buffer[] {
    const views: Buffer[] = [];
    let i = 0;
    while (i < records.length) {
      const first = records[i];
      let last = first;
      while (++i < records.length) {
        const next = records[i];
        if (next.chunk !== first.chunk || next.start !== last.end + 1) break;
        last = next;
      }
      views.push(first.chunk.subarray(first.start, last.end + 1));
    }
    return views;
  }
}

/** A record's body as UTF-8 bytes: the encoded bytes themselves (no copy), or the text encoded now. @internal */
export function recordBytes(record: MonitoringRecord): Buffer {
  return record instanceof EncodedRecord ? record.bytes() : Buffer.from(record.body, 'utf8');
}

/**
 * Writes each record's body into an arena of chunks as it is queued, while its text is still fresh in the
 * cache. Records given back with {@link release} (a sink wrote them and holds them no more) free their
 * chunk for reuse once none in it is left; a chunk with records never given back is freed by the garbage
 * collector with its last record. Reuse matters: chunk memory lives outside the JavaScript heap, and a fresh
 * megabyte every two thousand records or so made the engine run a full collection about twice a second.
 *
 * @internal
 */
export class RecordEncoder {
  private current = new ArenaChunk(Buffer.allocUnsafeSlow(CHUNK_BYTES), this);
  private used = 0;
  private readonly spare: ArenaChunk[] = [];

  encode(record: MonitoringRecord): EncodedRecord {
    if (record instanceof EncodedRecord) return record;
    const text = record.body;
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2), plus the newline; a record too
    // big for a chunk gets one of its exact size.
    const room = text.length * 3 + 1;
    let chunk = this.current;
    if (this.used + room > chunk.bytes.length) {
      const full = chunk;
      chunk = this.current =
        room > CHUNK_BYTES ? new ArenaChunk(Buffer.allocUnsafeSlow(Buffer.byteLength(text) + 1), this) : (this.spare.pop() ?? new ArenaChunk(Buffer.allocUnsafeSlow(CHUNK_BYTES), this));
      this.used = 0;
      if (full.pending === 0) this.recycle(full);
    }
    const bytes = chunk.bytes;
    const start = this.used;
    const end = start + bytes.write(text, start, 'utf8');
    bytes[end] = NEWLINE;
    this.used = end + 1;
    const encoded = new EncodedRecord(bytes, start, end, record.cloudEvent);
    encoded.slot = chunk;
    chunk.pending++;
    return encoded;
  }

  /**
   * Gives back records whose bytes nobody will read again: their memory may hold new records. Records of
   * another encoder, and records given back before, are left alone.
   */
  release(records: readonly MonitoringRecord[]): void {
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (!(record instanceof EncodedRecord)) continue;
      const chunk = record.slot;
      if (chunk === null || chunk.arena !== this) continue;
      record.slot = null;
      if (--chunk.pending === 0 && chunk !== this.current) this.recycle(chunk);
    }
  }

  private recycle(chunk: ArenaChunk): void {
    if (chunk.bytes.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(chunk);
  }
}
