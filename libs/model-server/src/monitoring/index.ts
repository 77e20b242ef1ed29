export type { InferenceEvent, StageTimings } from './inference-event.interface';
export { InferenceEventStream } from './inference-event-stream';
