import process from 'node:process';
import type { LogStreamTarget } from '../log-stream.util';
import type { ResolvedMonitoringOptions } from '../monitoring-options.interface';
import { HttpSink } from './http.sink';
import { FileSink, StreamSink } from './line.sink';
import type { MonitoringSink } from './monitoring-sink.interface';
import { RedisStreamSink } from './redis-stream.sink';

/** The sink a `LOG_STREAM` target names, configured from the monitoring options. @publicApi */
export function createSink(target: LogStreamTarget, options: Pick<ResolvedMonitoringOptions, 'redisMaxLen' | 'timeoutMs' | 'retryBackoffMaxMs' | 'concurrency'>): MonitoringSink {
  switch (target.kind) {
    case 'stdout':
      return new StreamSink(process.stdout, 'stdout');
    case 'file':
      return new FileSink(target.path);
    case 'redis':
      return new RedisStreamSink(target, { maxLen: options.redisMaxLen, timeoutMs: options.timeoutMs, reconnectMaxMs: options.retryBackoffMaxMs });
    case 'http':
      return new HttpSink(target.url, { concurrency: options.concurrency, timeoutMs: options.timeoutMs });
  }
}
