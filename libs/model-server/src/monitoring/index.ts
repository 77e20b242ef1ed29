/**
 * `nest-model-server/monitoring`: the data plane's events, request records to a log stream (MLRun or
 * CloudEvents) and Prometheus metrics.
 */
import 'reflect-metadata';

export type { InferenceEvent, StageTimings } from '../inference/inference-event.interface';
export { InferenceEventStream } from '../inference/inference-event-stream';
export type { InferenceEventListener } from '../inference/inference-event-stream';
export { ModelServerMonitoringModule } from './monitoring.module';
export type { ModelServerMonitoringOptions, CloudEventsOptions, DropPolicy } from './monitoring-options.interface';
export type { MonitoringRecord, RecordFormatter, LoggedResults, LogFormat } from './monitoring-record.interface';
export { RecordPipeline } from './record-pipeline';
export type { DropReason, PipeObserver } from './record-pipeline.interface';
export { MlrunRecordFormatter } from './mlrun-record.formatter';
export { CloudEventsFormatter, CE_REQUEST_TYPE, CE_RESPONSE_TYPE, CE_ERROR_TYPE } from './cloud-events.formatter';
export { PrometheusMetrics, DEFAULT_LATENCY_BUCKETS } from './metrics/prometheus-metrics.service';
export type { MetricsSettings } from './metrics/prometheus-metrics.service';
export type { MonitoringSink } from './sinks/monitoring-sink.interface';
export { SinkDeliveryError } from './sinks/monitoring-sink.interface';
export { FileSink, StreamSink } from './sinks/line.sink';
export { RedisStreamSink } from './sinks/redis-stream.sink';
export { HttpSink } from './sinks/http.sink';
