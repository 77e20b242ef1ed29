import type { SchedulerLike } from 'rxjs';
import type { CloudEventsSettings } from './cloud-events.formatter';
import type { LogFormat } from './monitoring-record.interface';
import type { MonitoringSink } from './sinks/monitoring-sink.interface';

/** What the pipe drops when its buffer is full: the oldest waiting records, or the newest arrivals. @publicApi */
export type DropPolicy = 'drop-oldest' | 'drop-newest';

/**
 * KServe CloudEvents settings (the `ce-*` attributes the KServe agent sets).
 *
 * @publicApi
 */
export interface CloudEventsOptions {
  /** `ce-source` (default: the host name, as KServe passes the pod name). */
  source?: string;
  /** `ce-inferenceservicename` (default: the model's name). */
  inferenceService?: string;
  /** `ce-namespace` (default `default`). */
  namespace?: string;
  /** `ce-component`: `predictor` (default), `transformer` or `explainer`. */
  component?: string;
  /** `ce-endpoint`: `default` (default) or `canary`. */
  endpoint?: string;
  /**
   * Also send an `org.kubeflow.serving.inference.error` event for a failed request (default false: like KServe,
   * a failed request gets its request event only).
   */
  errorEvents?: boolean;
}

/**
 * Options of {@link ModelServerMonitoringModule}: the monitoring pipe (request records to a stream) and
 * Prometheus metrics. Every count is a number of records; every duration is in milliseconds.
 *
 * @publicApi
 */
export interface ModelServerMonitoringOptions {
  /**
   * Where request records go (MLRun's stream path), as a URL: `stdout`, `file:///var/log/inference.jsonl` (or a
   * bare path), `redis://host:6379/stream-key` (`rediss://` for TLS; `?maxlen=N`, `?db=N`), `http(s)://host/path`.
   * Absent or empty: no records (metrics still work).
   */
  logStream?: string;
  /** Record format (default: `cloudevents` for an HTTP stream, `mlrun` otherwise). */
  format?: LogFormat;
  /** A sink of your own; it replaces the one `logStream` names. */
  sink?: MonitoringSink;
  /** Log every Nth successful request of each model (MLRun's `log_stream_sample`; default 1: all). Failures are always logged. */
  sample?: number;
  /** Log each successful request with this probability, 0 < p ≤ 1 (records carry the weight `_count` = 1/p). Not with `sample`. */
  sampleProbability?: number;
  /** Send when this many records wait (default 1000 for a file or stdout, 100 otherwise). */
  batchSize?: number;
  /** ...or when the oldest waiting record has waited this long (default 200 ms). */
  batchIntervalMs?: number;
  /** Records the buffer holds while the sink is slow or away (default 10,000). */
  bufferSize?: number;
  /** Bytes of JSON the buffer holds (default 64 MiB). */
  bufferBytes?: number;
  /** What a full buffer drops (default `drop-oldest`); dropped records are counted. */
  dropPolicy?: DropPolicy;
  /** HTTP requests in flight at once (default 4). */
  concurrency?: number;
  /** Time limit of one delivery attempt (default 5,000 ms). */
  timeoutMs?: number;
  /** Retries of a failed delivery before its records are dropped (default 3). */
  retries?: number;
  /** First retry delay; it doubles each retry (default 100 ms). */
  retryBackoffMs?: number;
  /** Longest retry delay, and longest wait between Redis reconnection attempts (default 5,000 ms). */
  retryBackoffMaxMs?: number;
  /** How long shutdown waits for the buffer to drain before dropping the rest (default 5,000 ms). */
  flushTimeoutMs?: number;
  /** Redis: trim the stream with `XADD key MAXLEN ~ N` (default: no trimming). */
  redisMaxLen?: number;
  /** MLRun `function_uri`, `<project>/<function>[:<tag>]` (default `default/<serverName>`); the project part is required. */
  functionUri?: string;
  /**
   * MLRun `endpoint_id` by model (`<name>`) or model version (`<name>:<version>`), for endpoints registered in MLRun
   * under ids of their own. Default: the id MLRun computes from `functionUri` and the versioned model name.
   */
  endpointIds?: Record<string, string>;
  /**
   * MLRun records for requests refused before the model ran too (malformed bodies, failed checks, not ready,
   * overloaded). Default false: like MLRun, only failed model calls get an error record; every refusal is counted
   * in the metrics either way.
   */
  logClientErrors?: boolean;
  /** MLRun `host` (default: the host name). */
  host?: string;
  /** MLRun `worker` (default: the Node cluster worker id with `--workers N`, else 0). */
  worker?: number;
  /** KServe CloudEvents attributes. */
  cloudEvents?: CloudEventsOptions;
  /** Serve Prometheus metrics (default true). */
  metrics?: boolean;
  /** Path of the metrics route (default `/metrics`). */
  metricsPath?: string;
  /** Prefix of every metric name (default `nms_`). */
  metricsPrefix?: string;
  /** Node.js process metrics (CPU, memory, event loop lag, GC; default true). */
  processMetrics?: boolean;
  /** Latency histogram buckets in seconds (default 0.5 ms to 10 s). */
  latencyBuckets?: number[];
  /** Timers of the pipe (batching window, retries); tests pass a virtual-time scheduler. Default: rxjs `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Random numbers in [0, 1) for probability sampling (default `Math.random`). */
  random?: () => number;
}

/** The options after validation, defaults applied. @internal */
export interface ResolvedMonitoringOptions {
  logStream: string | undefined;
  format: LogFormat;
  sink: MonitoringSink | undefined;
  sample: number;
  sampleProbability: number;
  batchSize: number;
  batchIntervalMs: number;
  bufferSize: number;
  bufferBytes: number;
  dropPolicy: DropPolicy;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  flushTimeoutMs: number;
  redisMaxLen: number | undefined;
  functionUri: string;
  endpointIds: Record<string, string>;
  logClientErrors: boolean;
  host: string;
  worker: number;
  cloudEvents: CloudEventsSettings;
  metrics: boolean;
  metricsPath: string;
  metricsPrefix: string;
  processMetrics: boolean;
  latencyBuckets: number[];
  scheduler: SchedulerLike;
  random: () => number;
}

/** The record formats, as `format` (and the CLI's `LOG_STREAM_FORMAT`) names them. @internal */
export const LOG_FORMATS = ['mlrun', 'cloudevents'] as const satisfies readonly LogFormat[];

/**
 * The defaults of the monitoring options, written once: the validation applies them and the CLI shows them in its
 * help. Two depend on the log stream: `format` is `httpFormat` for an HTTP stream, and `batchSize` is
 * `lineBatchSize` for a file or stdout (one write takes a batch of any size; Redis pipelines and HTTP POSTs keep
 * smaller ones). @internal
 */
export const MONITORING_DEFAULTS = {
  format: 'mlrun',
  httpFormat: 'cloudevents',
  sample: 1,
  sampleProbability: 1,
  batchSize: 100,
  lineBatchSize: 1000,
  batchIntervalMs: 200,
  bufferSize: 10_000,
  bufferBytes: 64 * 1024 * 1024,
  dropPolicy: 'drop-oldest',
  concurrency: 4,
  timeoutMs: 5000,
  retries: 3,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 5000,
  flushTimeoutMs: 5000,
  logClientErrors: false,
  metrics: true,
  metricsPath: '/metrics',
  metricsPrefix: 'nms_',
  processMetrics: true,
} as const satisfies Partial<Record<keyof ResolvedMonitoringOptions, unknown>> & { httpFormat: LogFormat; lineBatchSize: number };
