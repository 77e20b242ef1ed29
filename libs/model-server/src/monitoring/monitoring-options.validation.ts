import cluster from 'node:cluster';
import { hostname } from 'node:os';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { asyncScheduler } from 'rxjs';
import { validateOrThrow } from '../options/validate.util';
import { parseLogStream, type LogStreamTarget } from './log-stream.util';
import { LOG_FORMATS, MONITORING_DEFAULTS, type ModelServerMonitoringOptions, type ResolvedMonitoringOptions } from './monitoring-options.interface';
import { DEFAULT_LATENCY_BUCKETS } from './metrics/prometheus-metrics.service';

/** `<project>/<function>[:<tag>][@<hash>]`: MLRun drops records whose URI has no project. */
const FUNCTION_URI = /^[^/\s]+\/[^/\s:@]+(:[^/\s@]+)?(@[^/\s]+)?$/;
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const ROUTE_PATH = /^\/[A-Za-z0-9._~\-/]*$/;
/** Attribute values go into HTTP headers: printable ASCII only. */
const HEADER_TEXT = /^[\x20-\x7e]*$/;

class CloudEventsRules {
  @IsOptional() @IsString() @Matches(HEADER_TEXT, { message: 'source must be printable ASCII' }) source?: string;
  @IsOptional() @IsString() @Matches(HEADER_TEXT, { message: 'inferenceService must be printable ASCII' }) inferenceService?: string;
  @IsOptional() @IsString() @Matches(HEADER_TEXT, { message: 'namespace must be printable ASCII' }) namespace?: string;
  @IsOptional() @IsString() @Matches(HEADER_TEXT, { message: 'component must be printable ASCII' }) component?: string;
  @IsOptional() @IsString() @Matches(HEADER_TEXT, { message: 'endpoint must be printable ASCII' }) endpoint?: string;
  @IsOptional() @IsBoolean() errorEvents?: boolean;
}

class MonitoringRules {
  @IsOptional() @IsString() logStream?: string;
  @IsOptional() @IsIn([...LOG_FORMATS]) format?: string;
  @IsOptional() @IsInt() @Min(1) sample?: number;
  @IsOptional() @IsNumber() @Min(Number.MIN_VALUE) @Max(1) sampleProbability?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100_000) batchSize?: number;
  @IsOptional() @IsInt() @Min(0) batchIntervalMs?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_000_000) bufferSize?: number;
  @IsOptional() @IsInt() @Min(1024) bufferBytes?: number;
  @IsOptional() @IsIn(['drop-oldest', 'drop-newest']) dropPolicy?: string;
  @IsOptional() @IsInt() @Min(1) @Max(1024) concurrency?: number;
  @IsOptional() @IsInt() @Min(1) timeoutMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(100) retries?: number;
  @IsOptional() @IsInt() @Min(1) retryBackoffMs?: number;
  @IsOptional() @IsInt() @Min(1) retryBackoffMaxMs?: number;
  @IsOptional() @IsInt() @Min(0) flushTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) redisMaxLen?: number;
  @IsOptional() @IsString() @Matches(FUNCTION_URI, { message: 'functionUri must look like <project>/<function>[:<tag>] (MLRun needs the project)' }) functionUri?: string;
  @IsOptional() @IsObject() endpointIds?: Record<string, string>;
  @IsOptional() @IsBoolean() logClientErrors?: boolean;
  @IsOptional() @IsString() host?: string;
  @IsOptional() @IsInt() @Min(0) worker?: number;
  @IsOptional() @IsObject() @ValidateNested() cloudEvents?: CloudEventsRules;
  @IsOptional() @IsBoolean() metrics?: boolean;
  @IsOptional() @IsString() @Matches(ROUTE_PATH, { message: 'metricsPath must be a URL path such as /metrics' }) metricsPath?: string;
  @IsOptional() @IsString() @Matches(METRIC_PREFIX, { message: 'metricsPrefix may hold letters, digits, "_" and ":" and not start with a digit' }) metricsPrefix?: string;
  @IsOptional() @IsBoolean() processMetrics?: boolean;
  @IsOptional() @IsArray() @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true }) latencyBuckets?: number[];
}

/** The monitoring options, checked, with their defaults, and the stream they name. @internal */
export interface ValidatedMonitoring {
  options: ResolvedMonitoringOptions;
  target: LogStreamTarget | undefined;
}

/**
 * Checks the monitoring options (one error lists every problem, with the setting to change) and applies the
 * defaults; `serverName` makes the default MLRun `function_uri` (`default/<serverName>`).
 *
 * @internal
 */
export function validateMonitoringOptions(input: ModelServerMonitoringOptions | undefined, serverName: string): ValidatedMonitoring {
  const o = input ?? {};
  const rules = Object.assign(new MonitoringRules(), o);
  if (typeof o.cloudEvents === 'object' && o.cloudEvents !== null) rules.cloudEvents = Object.assign(new CloudEventsRules(), o.cloudEvents);
  const problems: string[] = [];
  if ((o.sample ?? 1) > 1 && o.sampleProbability !== undefined && o.sampleProbability < 1) {
    problems.push('sample / sampleProbability: choose one way of sampling (every Nth request, or a probability)');
  }
  if (o.sink !== undefined && (typeof o.sink !== 'object' || o.sink === null || typeof o.sink.send !== 'function')) {
    problems.push('sink: must be a MonitoringSink (an object with init, send, close...)');
  }
  const buckets = o.latencyBuckets;
  if (Array.isArray(buckets) && (buckets.length === 0 || buckets.some((b, i) => b <= 0 || (i > 0 && b <= buckets[i - 1])))) {
    problems.push('latencyBuckets: must be positive numbers of seconds in increasing order');
  }
  const ids = o.endpointIds;
  if (typeof ids === 'object' && ids !== null && Object.values(ids).some((id) => typeof id !== 'string' || id === '')) {
    problems.push('endpointIds: each model\'s endpoint id must be a non-empty string');
  }
  let target: LogStreamTarget | undefined;
  try {
    target = typeof o.logStream === 'string' ? parseLogStream(o.logStream) : undefined;
  } catch (err) {
    problems.push(`logStream: ${(err as Error).message}`);
  }
  validateOrThrow('monitoring', rules, problems);
  const host = o.host ?? hostname();
  const ce = o.cloudEvents ?? {};
  // A file or stdout write takes a batch of any size at once (one write, no copy): larger batches mean fewer
  // writes. Redis pipelines and HTTP POSTs keep smaller batches.
  const toLines = o.sink === undefined && (target?.kind === 'file' || target?.kind === 'stdout');
  const options: ResolvedMonitoringOptions = {
    logStream: o.logStream,
    format: o.format ?? (target?.kind === 'http' ? MONITORING_DEFAULTS.httpFormat : MONITORING_DEFAULTS.format),
    sink: o.sink,
    sample: o.sample ?? MONITORING_DEFAULTS.sample,
    sampleProbability: o.sampleProbability ?? MONITORING_DEFAULTS.sampleProbability,
    batchSize: o.batchSize ?? (toLines ? MONITORING_DEFAULTS.lineBatchSize : MONITORING_DEFAULTS.batchSize),
    batchIntervalMs: o.batchIntervalMs ?? MONITORING_DEFAULTS.batchIntervalMs,
    bufferSize: o.bufferSize ?? MONITORING_DEFAULTS.bufferSize,
    bufferBytes: o.bufferBytes ?? MONITORING_DEFAULTS.bufferBytes,
    dropPolicy: o.dropPolicy ?? MONITORING_DEFAULTS.dropPolicy,
    concurrency: o.concurrency ?? MONITORING_DEFAULTS.concurrency,
    timeoutMs: o.timeoutMs ?? MONITORING_DEFAULTS.timeoutMs,
    retries: o.retries ?? MONITORING_DEFAULTS.retries,
    retryBackoffMs: o.retryBackoffMs ?? MONITORING_DEFAULTS.retryBackoffMs,
    retryBackoffMaxMs: o.retryBackoffMaxMs ?? MONITORING_DEFAULTS.retryBackoffMaxMs,
    flushTimeoutMs: o.flushTimeoutMs ?? MONITORING_DEFAULTS.flushTimeoutMs,
    redisMaxLen: o.redisMaxLen,
    functionUri: o.functionUri ?? `default/${serverName.replace(/[^A-Za-z0-9_.-]/g, '-') || 'nest-model-server'}`,
    endpointIds: { ...o.endpointIds },
    logClientErrors: o.logClientErrors ?? MONITORING_DEFAULTS.logClientErrors,
    host,
    worker: o.worker ?? (cluster.isWorker ? (cluster.worker?.id ?? 0) : 0),
    cloudEvents: {
      source: ce.source ?? host,
      inferenceService: ce.inferenceService,
      namespace: ce.namespace ?? 'default',
      component: ce.component ?? 'predictor',
      endpoint: ce.endpoint ?? 'default',
      errorEvents: ce.errorEvents ?? false,
    },
    metrics: o.metrics ?? MONITORING_DEFAULTS.metrics,
    metricsPath: o.metricsPath ?? MONITORING_DEFAULTS.metricsPath,
    metricsPrefix: o.metricsPrefix ?? MONITORING_DEFAULTS.metricsPrefix,
    processMetrics: o.processMetrics ?? MONITORING_DEFAULTS.processMetrics,
    latencyBuckets: buckets ?? DEFAULT_LATENCY_BUCKETS,
    scheduler: o.scheduler ?? asyncScheduler,
    random: o.random ?? Math.random,
  };
  return { options, target };
}
