import type { InferenceEvent } from '../inference/inference-event.interface';

/**
 * One message the record pipeline sends: a line of a file, an entry of a Redis stream, an HTTP POST.
 * MLRun records are JSON objects; CloudEvents carry their attributes beside a JSON body.
 *
 * @publicApi
 */
export interface MonitoringRecord {
  /** JSON text: the MLRun record, or the CloudEvent's data. */
  readonly body: string;
  /**
   * The CloudEvent's context attributes (`specversion`, `id`, `type`, `source`, `time` and the extensions),
   * in the order they are written; absent for MLRun records. In HTTP binary mode each becomes a `ce-<name>` header.
   */
  readonly cloudEvent?: Readonly<Record<string, string>>;
}

/**
 * Turns one inference event into the records to send: one MLRun record, or a CloudEvents request event
 * followed by its response (or error) event.
 *
 * @publicApi
 */
export interface RecordFormatter {
  format(event: InferenceEvent): MonitoringRecord[];
  /** Whether the format writes a record for the event at all (checked before sampling); default: every event. */
  logs?(event: InferenceEvent): boolean;
}

/**
 * What a model's `loggedResults` hook returns to replace what its monitoring records log (MLRun's
 * `logged_results`): `inputs` in place of the request's input tensors, `outputs` in place of the response's.
 *
 * @publicApi
 */
export interface LoggedResults {
  inputs?: unknown[];
  outputs?: unknown[];
}

/** The record formats: the MLRun stream record, or KServe's CloudEvents. @publicApi */
export type LogFormat = 'mlrun' | 'cloudevents';

/** How successful requests are sampled: `percentage` of them logged, each record standing for `weight` requests. @publicApi */
export interface SamplingInfo {
  percentage: number;
  weight: number;
}
