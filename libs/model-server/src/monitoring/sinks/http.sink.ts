import { Buffer } from 'node:buffer';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { binaryCloudEventHeaders, CE_DATA_CONTENT_TYPE } from '../cloud-events.formatter';
import type { MonitoringRecord } from '../monitoring-record.interface';
import { recordBytes } from '../record.encoder';
import { SinkDeliveryError, type MonitoringSink } from './monitoring-sink.interface';

/** Limits of the HTTP sink. @publicApi */
export interface HttpSinkSettings {
  /** Requests in flight at once. */
  concurrency: number;
  /** Time limit of one POST, connection included (milliseconds). */
  timeoutMs: number;
}

/** How one POST ended. */
type Outcome = 'delivered' | 'retry' | 'rejected';

/**
 * POSTs each record to an HTTP(S) endpoint: CloudEvents in binary mode (`ce-*` headers, the JSON data as
 * body — what KServe's logger sends, so Knative brokers and `event_display` take it), MLRun records as JSON
 * bodies. At most `concurrency` requests are in flight over keep-alive connections; each has a time limit.
 * A 2xx is delivered; 408, 429, 5xx and network errors are retried by the pipe; any other status is a refusal
 * and is dropped (counted) without retry.
 *
 * @publicApi
 */
export class HttpSink implements MonitoringSink {
  readonly name = 'http';
  readonly maxInFlight = 2;
  readonly available = true;
  private readonly agent: HttpAgent;
  private readonly send1: typeof httpRequest;
  private readonly url: URL;
  private readonly auth: string | undefined;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    url: URL,
    private readonly settings: HttpSinkSettings,
  ) {
    const tls = url.protocol === 'https:';
    this.agent = tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: settings.concurrency })
      : new HttpAgent({ keepAlive: true, maxSockets: settings.concurrency });
    this.send1 = tls ? httpsRequest : httpRequest;
    this.url = new URL(url.href);
    if (url.username !== '' || url.password !== '') {
      this.auth = 'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
      this.url.username = '';
      this.url.password = '';
    }
  }

  get target(): string {
    return this.url.href;
  }

  async init(): Promise<void> {}

  onAvailable(): void {}

  async send(batch: readonly MonitoringRecord[]): Promise<void> {
    const outcomes = await Promise.all(batch.map((record) => this.limited(record)));
    let rejected = 0;
    let firstError = '';
    const remaining: MonitoringRecord[] = [];
    for (let i = 0; i < outcomes.length; i++) {
      const [outcome, error] = outcomes[i];
      if (outcome === 'delivered') continue;
      firstError ||= error;
      if (outcome === 'rejected') rejected++;
      else remaining.push(batch[i]);
    }
    if (firstError !== '') throw new SinkDeliveryError(`POST ${this.url.href}: ${firstError}`, remaining, rejected);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async limited(record: MonitoringRecord): Promise<[Outcome, string]> {
    while (this.active >= this.settings.concurrency && !this.closed) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) return ['retry', 'the sink is closed'];
    this.active++;
    try {
      return await this.post(record);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private post(record: MonitoringRecord): Promise<[Outcome, string]> {
    const body = recordBytes(record);
    const headers: OutgoingHttpHeaders =
      record.cloudEvent === undefined ? { 'content-type': CE_DATA_CONTENT_TYPE } : binaryCloudEventHeaders(record);
    headers['content-length'] = body.length;
    if (this.auth !== undefined) headers.authorization = this.auth;
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: Outcome, error: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve([outcome, error]);
      };
      const req = this.send1(this.url, { method: 'POST', agent: this.agent, headers }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('error', () => undefined);
        if (status >= 200 && status < 300) done('delivered', '');
        else if (status === 408 || status === 429 || status >= 500) done('retry', `HTTP ${status}`);
        else done('rejected', `HTTP ${status} (not retried)`);
      });
      const timer = setTimeout(() => {
        done('retry', `no answer within ${this.settings.timeoutMs} ms`);
        req.destroy();
      }, this.settings.timeoutMs);
      req.on('error', (err) => done('retry', err.message));
      req.end(body);
    });
  }
}
