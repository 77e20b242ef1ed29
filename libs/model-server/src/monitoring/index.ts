export type { InferenceEvent, StageTimings } from '../inference/inference-event.interface';
export { InferenceEventStream } from '../inference/inference-event-stream';
export type { InferenceEventListener } from '../inference/inference-event-stream';
export { ModelServerMonitoringModule } from './monitoring.module';
export { MONITORING_OPTIONS_TYPE, MONITORING_ASYNC_OPTIONS_TYPE } from './monitoring.module-definition';
export type { ModelServerMonitoringOptions, CloudEventsOptions, DropPolicy } from './monitoring-options.interface';
export type { MonitoringRecord, RecordFormatter, LoggedResults, LogFormat, SamplingInfo } from './monitoring-record.interface';
export { RecordPipeline } from './record-pipeline';
export type { DropReason, PipeObserver, PipeSettings } from './record-pipeline.interface';
export { RecordQueue } from './record.queue';
export { EncodedRecord } from './record.encoder';
export { EventSampler } from './event.sampler';
export { MlrunRecordFormatter } from './mlrun-record.formatter';
export type { MlrunRecordSettings, LoggedResultsSource, LoggedResultsLookup, FormatWarning } from './mlrun-record.formatter';
export {
  CloudEventsFormatter,
  structuredCloudEvent,
  binaryCloudEventHeaders,
  CE_REQUEST_TYPE,
  CE_RESPONSE_TYPE,
  CE_ERROR_TYPE,
  CE_DATA_CONTENT_TYPE,
} from './cloud-events.formatter';
export type { CloudEventsSettings } from './cloud-events.formatter';
export { mlrunWhen, rfc3339 } from './record-time.util';
export { valueJson, tensorJson, requestJson, responseJson, wireRequestJson, sentRequestJson } from './record-json.util';
export { parseLogStream, redact } from './log-stream.util';
export type { LogStreamTarget, RedisStreamTarget } from './log-stream.util';
export { PrometheusMetrics, DEFAULT_LATENCY_BUCKETS } from './metrics/prometheus-metrics.service';
export type { MetricsSettings } from './metrics/prometheus-metrics.service';
export * from './sinks';
