import { Buffer } from 'node:buffer';
import process from 'node:process';
import { open, type FileHandle } from 'node:fs/promises';
import { structuredCloudEvent } from '../cloud-events.formatter';
import type { MonitoringRecord } from '../monitoring-record.interface';
import { EncodedRecord } from '../record.encoder';
import type { MonitoringSink } from './monitoring-sink.interface';

/**
 * One JSON line per record (an MLRun record, or a CloudEvent in structured mode), as bytes: the pipe's encoded
 * records are written as they are, without a copy; anything else is written out here.
 */
function lines(batch: readonly MonitoringRecord[]): Buffer[] {
  let encoded = true;
  for (let i = 0; i < batch.length && encoded; i++) encoded = batch[i] instanceof EncodedRecord && batch[i].cloudEvent === undefined;
  if (encoded) return EncodedRecord.lines(batch as readonly EncodedRecord[]);
  let text = '';
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    text += (r.cloudEvent === undefined ? r.body : structuredCloudEvent(r)) + '\n';
  }
  return [Buffer.from(text, 'utf8')];
}

/** Writes every byte of `views` in order (a write may take fewer bytes than it was given). */
async function writeAll(handle: FileHandle, views: Buffer[]): Promise<void> {
  let left = views;
  while (left.length > 0) {
    const { bytesWritten } = await handle.writev(left);
    if (bytesWritten <= 0) throw new Error('the monitoring log file took no bytes');
    let n = bytesWritten;
    let i = 0;
    while (i < left.length && n >= left[i].length) n -= left[i++].length;
    left = i < left.length ? [left[i].subarray(n), ...left.slice(i + 1)] : [];
  }
}

/**
 * Appends records to a file as JSON lines (`file:///path/log.jsonl`), one write per batch. The file is opened
 * (created if missing) at start; a file that cannot be opened stops the server from starting.
 *
 * @publicApi
 */
export class FileSink implements MonitoringSink {
  readonly name = 'file';
  readonly maxInFlight = 1;
  /** A batch's bytes are in the file once `send` resolves. */
  readonly forgetsSentBatches = true;
  private handle: FileHandle | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly path: string) {}

  get target(): string {
    return `file://${this.path}`;
  }

  get available(): boolean {
    return this.handle !== null;
  }

  async init(): Promise<void> {
    try {
      this.handle = await open(this.path, 'a');
    } catch (err) {
      throw new Error(`cannot open the monitoring log file ${this.path} (LOG_STREAM): ${(err as Error).message}`, { cause: err });
    }
    for (const listener of this.listeners) listener();
  }

  onAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  async send(batch: readonly MonitoringRecord[]): Promise<void> {
    if (this.handle === null) throw new Error(`the monitoring log file ${this.path} is not open`);
    await writeAll(this.handle, lines(batch));
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

/**
 * Writes records as JSON lines to a stream: the process's stdout (`LOG_STREAM=stdout`) unless another is given.
 *
 * @publicApi
 */
export class StreamSink implements MonitoringSink {
  readonly maxInFlight = 1;
  readonly available = true;
  /**
   * The process's stdout has written a batch's bytes when its write callback runs; another stream may still
   * hold them then (a PassThrough keeps them until they are read).
   */
  readonly forgetsSentBatches: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream = process.stdout,
    readonly name: string = 'stdout',
  ) {
    this.forgetsSentBatches = stream === process.stdout;
  }

  get target(): string {
    return this.name;
  }

  async init(): Promise<void> {}

  onAvailable(): void {}

  send(batch: readonly MonitoringRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const views = lines(batch);
      this.stream.write(views.length === 1 ? views[0] : Buffer.concat(views), (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
