import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ExecutorObserver } from '../../execution/predict-executor.interface';
import { ModelState } from '../../model/model-state.enum';
import type { ModelRepository } from '../../repository/model-repository';
import type { InferenceEventStream } from '../../inference/inference-event-stream';
import type { InferenceEvent, StageTimings } from '../../inference/inference-event.interface';
import type { StreamFacts } from '../../inference/response-stream';
import type { RecordPipeline } from '../record-pipeline';
import type { DropReason, PipeObserver } from '../record-pipeline.interface';
import {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  SumCountFamily,
  type CounterSeries,
  type GaugeSeries,
  type HistogramSeries,
} from './series.metric';

/** How the metrics are named and bucketed. @publicApi */
export interface MetricsSettings {
  /** Prefix of every metric name except the standard process metrics (e.g. `nms_`). */
  prefix: string;
  /** Latency buckets, in seconds. */
  latencyBuckets: number[];
  /** Collect the standard Node.js process metrics (`process_*`, `nodejs_*`). */
  processMetrics: boolean;
}

/** Default latency buckets: 0.5 ms to 10 s. @publicApi */
export const DEFAULT_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const STATES = Object.values(ModelState);

interface RequestSeries {
  /** The event fields the series was found by (compared by identity first: the same strings come again). */
  key: { model: string; version: string | undefined; op: string; protocol: string; errorCode: string | undefined };
  count: CounterSeries;
  duration: HistogramSeries;
  stages: Partial<Record<keyof StageTimings, HistogramSeries>>;
  firstChunk?: HistogramSeries;
  chunkGap?: HistogramSeries;
  model: string;
  version: string;
  op: string;
}

interface ExecutorSeries {
  batch: HistogramSeries;
  wait: HistogramSeries;
  depth: GaugeSeries;
}

/**
 * The server's Prometheus metrics, in a registry of their own ({@link registry}; add yours to it):
 * - `<p>requests_total{model,version,op,protocol,status,code}` and `<p>request_duration_seconds{model,version,op,protocol,status}`;
 * - `<p>request_stage_duration_seconds{model,version,op,stage}` (decode, preprocess, validate, predict, explain, operation, postprocess, encode);
 * - `<p>model_state{model,version,state}` (1 for the current state), `<p>model_load_duration_seconds{model,version}`;
 * - `<p>model_metric{model,version,name}` (`this.context.setMetric` in model code) and the summary
 *   `<p>request_custom_metric{model,version,name}` (`_sum`, `_count` of `ctx.setMetric` values per request);
 * - `<p>batch_size`, `<p>queue_wait_seconds`, `<p>queue_depth` `{model,version}` from executors (batching, workers);
 * - `<p>stream_first_chunk_seconds`, `<p>stream_chunk_gap_seconds` `{model,version}` of streams (`predictStream`);
 * - `<p>monitoring_records_sent_total{sink}`, `<p>monitoring_records_dropped_total{sink,reason}`, `<p>monitoring_buffer_records{sink}`;
 * - the standard process metrics (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, ...).
 * `version` is `""` for an unversioned model. Request series are updated from the inference event stream.
 *
 * @publicApi
 */
export class PrometheusMetrics implements ExecutorObserver, PipeObserver {
  /** The registry `GET /metrics` writes; register custom metrics here. */
  readonly registry = new Registry();
  private readonly requests: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly stageDuration: HistogramFamily;
  private readonly requestMetric: SumCountFamily;
  private readonly batchSize: HistogramFamily;
  private readonly queueWaitSeconds: HistogramFamily;
  private readonly queueDepthGauge: GaugeFamily;
  private readonly firstChunk: HistogramFamily;
  private readonly chunkGap: HistogramFamily;
  private readonly recordsSent: CounterFamily;
  private readonly recordsDropped: CounterFamily;
  private readonly requestSeries = new Map<string, RequestSeries>();
  private readonly executorSeries = new Map<string, ExecutorSeries>();
  private readonly pipes: RecordPipeline[] = [];
  private stopListening: (() => void) | null = null;
  /** The series of the previous event: consecutive requests mostly go to the same model, op and outcome. */
  private lastSeries: RequestSeries | null = null;

  constructor(
    private readonly repository: ModelRepository,
    settings: MetricsSettings,
  ) {
    const p = settings.prefix;
    const registers = [this.registry];
    const buckets = settings.latencyBuckets;
    const modelLabels = ['model', 'version'];
    const add = <T>(family: T): T => {
      this.registry.registerMetric(family as never);
      return family;
    };
    this.requests = add(new CounterFamily(`${p}requests_total`, 'Requests to a model, by outcome (code: the error code of a failure).', [...modelLabels, 'op', 'protocol', 'status', 'code']));
    this.duration = add(new HistogramFamily(`${p}request_duration_seconds`, 'Time from taking a request to its response or error, in the data plane.', [...modelLabels, 'op', 'protocol', 'status'], buckets));
    this.stageDuration = add(new HistogramFamily(`${p}request_stage_duration_seconds`, 'Time spent in each stage of a request (preprocess, predict, postprocess...).', [...modelLabels, 'op', 'stage'], buckets));
    this.requestMetric = add(new SumCountFamily(`${p}request_custom_metric`, 'Values model code set per request with ctx.setMetric (sum and count).', [...modelLabels, 'name']));
    this.batchSize = add(new HistogramFamily(`${p}batch_size`, 'Requests per batch sent to predict.', modelLabels, BATCH_BUCKETS));
    this.queueWaitSeconds = add(new HistogramFamily(`${p}queue_wait_seconds`, 'Time a request waited in a queue before predict ran.', modelLabels, buckets));
    this.firstChunk = add(new HistogramFamily(`${p}stream_first_chunk_seconds`, 'Time from taking a streaming request to its first partial result (predictStream).', modelLabels, buckets));
    this.chunkGap = add(new HistogramFamily(`${p}stream_chunk_gap_seconds`, 'Time between consecutive partial results of a stream.', modelLabels, buckets));
    this.queueDepthGauge = add(new GaugeFamily(`${p}queue_depth`, 'Requests waiting in a queue now.', modelLabels));
    this.recordsSent = add(new CounterFamily(`${p}monitoring_records_sent_total`, 'Monitoring records delivered to the sink.', ['sink']));
    this.recordsDropped = add(new CounterFamily(`${p}monitoring_records_dropped_total`, 'Monitoring records dropped (overflow, failed, rejected, shutdown, unformattable).', ['sink', 'reason']));
    const pipes = this.pipes;
    new Gauge({
      name: `${p}monitoring_buffer_records`,
      help: 'Monitoring records waiting in the buffer.',
      labelNames: ['sink'],
      registers,
      collect() {
        for (const pipe of pipes) this.set({ sink: pipe.sinkName }, pipe.buffered);
      },
    });
    this.modelGauges(p, modelLabels);
    if (settings.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  private modelGauges(p: string, modelLabels: string[]): void {
    const repository = this.repository;
    const registers = [this.registry];
    new Gauge({
      name: `${p}model_state`,
      help: 'Lifecycle state of each model version (1 for the current state, 0 for the others).',
      labelNames: [...modelLabels, 'state'],
      registers,
      collect() {
        this.reset();
        for (const mv of repository.versions()) {
          for (const state of STATES) this.set({ model: mv.name, version: mv.version ?? '', state }, mv.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: `${p}model_load_duration_seconds`,
      help: 'How long the last load of each model version took (failed loads included).',
      labelNames: modelLabels,
      registers,
      collect() {
        this.reset();
        for (const mv of repository.versions()) {
          if (mv.loadDurationMs !== undefined) this.set({ model: mv.name, version: mv.version ?? '' }, mv.loadDurationMs / 1000);
        }
      },
    });
    new Gauge({
      name: `${p}model_metric`,
      help: 'Model-level values model code set with this.context.setMetric.',
      labelNames: [...modelLabels, 'name'],
      registers,
      collect() {
        this.reset();
        for (const mv of repository.versions()) {
          const metrics = mv.instance?.context.metrics;
          if (metrics === undefined) continue;
          for (const name in metrics) this.set({ model: mv.name, version: mv.version ?? '', name }, metrics[name]);
        }
      },
    });
  }

  /** Starts counting requests from `events` (this turns event building on). */
  observe(events: InferenceEventStream): void {
    this.stopListening ??= events.listen(this.onEvent, { payloads: false });
  }

  /** Adds a pipe's buffer size to `<p>monitoring_buffer_records`. */
  watchPipe(pipe: RecordPipeline): void {
    this.pipes.push(pipe);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Stops counting requests. */
  close(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  private readonly onEvent = (e: InferenceEvent): void => {
    const last = this.lastSeries;
    const k = last?.key;
    const series =
      k !== undefined && k.model === e.model && k.version === e.version && k.op === e.op && k.protocol === e.protocol && k.errorCode === e.errorCode
        ? last!
        : (this.lastSeries = this.seriesOf(e));
    series.count.inc();
    series.duration.observe(e.durationMs / 1000);
    const stages = e.stages;
    for (const stage in stages) {
      const ms = stages[stage as keyof StageTimings]!;
      (series.stages[stage as keyof StageTimings] ??= this.stageDuration.child([series.model, series.version, series.op, stage])).observe(ms / 1000);
    }
    const custom = e.requestMetrics;
    if (custom !== undefined) {
      for (const name in custom) this.requestMetric.child([series.model, series.version, name]).observe(custom[name]);
    }
    if (e.stream !== undefined) this.observeStream(series, e.stream);
  };

  /** A stream's time to its first part and the gaps between its parts. */
  private observeStream(series: RequestSeries, stream: StreamFacts): void {
    const labels = [series.model, series.version];
    if (stream.firstChunkMs !== undefined) (series.firstChunk ??= this.firstChunk.child(labels)).observe(stream.firstChunkMs / 1000);
    if (stream.gapsMs.length === 0) return;
    const gaps = (series.chunkGap ??= this.chunkGap.child(labels));
    for (const ms of stream.gapsMs) gaps.observe(ms / 1000);
  }

  private seriesOf(e: InferenceEvent): RequestSeries {
    const key = e.model + '\u0000' + (e.version ?? '') + '\u0000' + e.op + '\u0000' + e.protocol + '\u0000' + (e.errorCode ?? '');
    return this.requestSeries.get(key) ?? this.newRequestSeries(key, e);
  }

  private newRequestSeries(key: string, e: InferenceEvent): RequestSeries {
    const version = e.version ?? '';
    const series: RequestSeries = {
      key: { model: e.model, version: e.version, op: e.op, protocol: e.protocol, errorCode: e.errorCode },
      count: this.requests.child([e.model, version, e.op, e.protocol, e.status, e.errorCode ?? '']),
      duration: this.duration.child([e.model, version, e.op, e.protocol, e.status]),
      stages: {},
      model: e.model,
      version,
      op: e.op,
    };
    this.requestSeries.set(key, series);
    return series;
  }

  batch(model: string, version: string | undefined, size: number): void {
    this.executor(model, version).batch.observe(size);
  }

  queueWait(model: string, version: string | undefined, ms: number): void {
    this.executor(model, version).wait.observe(ms / 1000);
  }

  queueDepth(model: string, version: string | undefined, depth: number): void {
    this.executor(model, version).depth.set(depth);
  }

  sent(sink: string, count: number): void {
    this.recordsSent.child([sink]).inc(count);
  }

  dropped(sink: string, reason: DropReason, count: number): void {
    this.recordsDropped.child([sink, reason]).inc(count);
  }

  private executor(model: string, version: string | undefined): ExecutorSeries {
    const v = version ?? '';
    const key = model + '\u0000' + v;
    let series = this.executorSeries.get(key);
    if (series === undefined) {
      series = { batch: this.batchSize.child([model, v]), wait: this.queueWaitSeconds.child([model, v]), depth: this.queueDepthGauge.child([model, v]) };
      this.executorSeries.set(key, series);
    }
    return series;
  }
}
