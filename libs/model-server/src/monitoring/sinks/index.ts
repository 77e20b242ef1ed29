export type { MonitoringSink } from './monitoring-sink.interface';
export { SinkDeliveryError } from './monitoring-sink.interface';
export { FileSink, StreamSink } from './line.sink';
export { RedisStreamSink } from './redis-stream.sink';
export type { RedisSinkSettings } from './redis-stream.sink';
export { HttpSink } from './http.sink';
export type { HttpSinkSettings } from './http.sink';
export { createSink } from './sink.factory';
