import type { MonitoringRecord } from './monitoring-record.interface';

/** Bytes of one arena chunk: a few hundred records of a small model. */
const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/**
 * A record whose JSON body is already UTF-8 bytes in an arena chunk, followed by a newline. Built-in sinks
 * write the bytes ({@link bytes}, or {@link lines} for runs of records); `body` decodes them for sinks that
 * want text. Waiting records are then one small object each, not a tree of string pieces the garbage
 * collector has to copy and a sink has to flatten later.
 *
 * @publicApi
 */
export class EncodedRecord implements MonitoringRecord {
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
 * cache. A chunk is freed once no record in it is left.
 *
 * @internal
 */
export class RecordEncoder {
  private chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;

  encode(record: MonitoringRecord): EncodedRecord {
    if (record instanceof EncodedRecord) return record;
    const text = record.body;
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2), plus the newline; a record too
    // big for a chunk gets one of its exact size.
    const room = text.length * 3 + 1;
    if (this.used + room > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(room > CHUNK_BYTES ? Buffer.byteLength(text) + 1 : CHUNK_BYTES);
      this.used = 0;
    }
    const start = this.used;
    const end = start + this.chunk.write(text, start, 'utf8');
    this.chunk[end] = NEWLINE;
    this.used = end + 1;
    return new EncodedRecord(this.chunk, start, end, record.cloudEvent);
  }
}
