import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { structuredCloudEvent } from '../cloud-events.formatter';
import type { RedisStreamTarget } from '../log-stream.util';
import type { MonitoringRecord } from '../monitoring-record.interface';
import { recordBytes } from '../record.encoder';
import { SinkDeliveryError, type MonitoringSink } from './monitoring-sink.interface';

/** Connection settings of the Redis sink (milliseconds). @publicApi */
export interface RedisSinkSettings {
  /** `MAXLEN ~ N` trimming of the stream; undefined: none. */
  maxLen: number | undefined;
  /** Time limit of a connection attempt and of each command. */
  timeoutMs: number;
  /** Longest wait between reconnection attempts (they start at 100 ms and double). */
  reconnectMaxMs: number;
}

/**
 * Appends each record to a Redis stream as its own entry, `XADD <key> [MAXLEN ~ N] * data <record JSON>`,
 * one pipeline per batch. It reconnects by itself (100 ms doubling up to `reconnectMaxMs`); while Redis is
 * away the sink reports itself unavailable and records wait in the pipe's buffer. Commands are never queued
 * inside the client, so nothing grows without bound here.
 *
 * @publicApi
 */
export class RedisStreamSink implements MonitoringSink {
  readonly name = 'redis';
  readonly maxInFlight = 1;
  private readonly logger = new Logger('Monitoring');
  private client: Redis | null = null;
  /** The client library, loaded when the sink starts (a server without a Redis sink never loads it). */
  private ioredis: typeof import('ioredis') | null = null;
  private readonly listeners: (() => void)[] = [];
  private down: string | null = null;
  private readonly trim: string[];

  constructor(
    private readonly stream: RedisStreamTarget,
    private readonly settings: RedisSinkSettings,
  ) {
    const maxLen = settings.maxLen ?? stream.maxLen;
    this.trim = maxLen === undefined ? [] : ['MAXLEN', '~', String(maxLen)];
  }

  get target(): string {
    const s = this.stream;
    const host = s.host.includes(':') ? `[${s.host}]` : s.host;
    return `${s.tls ? 'rediss' : 'redis'}://${host}:${s.port}/${s.key}${s.db !== 0 ? `?db=${s.db}` : ''}`;
  }

  get available(): boolean {
    return this.client?.status === 'ready';
  }

  /** Starts connecting; never waits for Redis (the server starts even when Redis is down). */
  async init(): Promise<void> {
    const { stream, settings } = this;
    const ioredis = (this.ioredis = require('ioredis') as typeof import('ioredis'));
    const client = new ioredis.Redis({
      host: stream.host,
      port: stream.port,
      db: stream.db,
      username: stream.username,
      password: stream.password,
      tls: stream.tls ? {} : undefined,
      connectionName: 'nest-model-server-monitoring',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: settings.timeoutMs,
      commandTimeout: settings.timeoutMs,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 16), settings.reconnectMaxMs),
    });
    client.on('ready', () => {
      if (this.down !== null) this.logger.log(`monitoring sink ${this.target} is reachable again`);
      this.down = null;
      for (const listener of this.listeners) listener();
    });
    client.on('error', (err: Error) => this.lost(err.message));
    client.on('close', () => this.lost('connection closed'));
    this.client = client;
  }

  private lost(why: string): void {
    if (this.down !== null || this.client === null) return;
    this.down = why;
    this.logger.warn(`monitoring sink ${this.target}: ${why}; reconnecting`);
  }

  onAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  async send(batch: readonly MonitoringRecord[]): Promise<void> {
    const client = this.client;
    if (client === null || client.status !== 'ready') throw new Error(`Redis at ${this.target} is not connected`);
    const pipeline = client.pipeline();
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      const data = r.cloudEvent !== undefined ? structuredCloudEvent(r) : recordBytes(r);
      pipeline.xadd(this.stream.key, ...this.trim, '*', 'data', data);
    }
    const results = await pipeline.exec();
    if (results === null) throw new Error('the Redis pipeline was discarded');
    const remaining: MonitoringRecord[] = [];
    let rejected = 0;
    let first: Error | null = null;
    for (let i = 0; i < results.length; i++) {
      const err = results[i][0];
      if (err === null) continue;
      first ??= err;
      // An error reply (e.g. WRONGTYPE: the key holds something else) will not change on retry.
      if (err instanceof this.ioredis!.ReplyError) rejected++;
      else remaining.push(batch[i]);
    }
    if (first !== null) throw new SinkDeliveryError(`XADD to ${this.stream.key} failed: ${first.message}`, remaining, rejected);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client === null) return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.quit(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('QUIT timed out')), this.settings.timeoutMs);
        }),
      ]);
    } catch {
      client.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
}
