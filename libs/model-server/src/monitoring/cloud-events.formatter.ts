import type { InferenceEvent } from '../inference/inference-event.interface';
import type { MonitoringRecord, RecordFormatter } from './monitoring-record.interface';
import { requestJson, responseJson, sentRequestOf, wireRequestJson } from './record-json.util';
import { rfc3339 } from './record-time.util';

/** `ce-type` of a request event (KServe's logger). @publicApi */
export const CE_REQUEST_TYPE = 'org.kubeflow.serving.inference.request';
/** `ce-type` of a response event (KServe's logger). @publicApi */
export const CE_RESPONSE_TYPE = 'org.kubeflow.serving.inference.response';
/** `ce-type` of the error event sent for a failed request when `errorEvents` is on (not a KServe type). @publicApi */
export const CE_ERROR_TYPE = 'org.kubeflow.serving.inference.error';
/** The content type of every event's data. @publicApi */
export const CE_DATA_CONTENT_TYPE = 'application/json';

/** The `ce-*` attributes that are the same for every event of this server. @publicApi */
export interface CloudEventsSettings {
  source: string;
  /** `inferenceservicename`; undefined: each model's name. */
  inferenceService: string | undefined;
  namespace: string;
  component: string;
  endpoint: string;
  /** Add an error event to a failed request's request event. */
  errorEvents: boolean;
}

const MAX_CACHED = 10_000;

/**
 * Writes KServe's payload-logger CloudEvents (v1.0): for each request a `…inference.request` event and, for a
 * success, a `…inference.response` event with the **same `id`** (the request id, as in the v2 response), so
 * a consumer pairs them. Attributes: `specversion`, `id`, `type`, `source`, `time` (request: when it arrived;
 * response: when it finished), the KServe extensions `inferenceservicename`, `namespace`, `component`,
 * `endpoint`, `metadata` (`{}`, or the forwarded request headers as `{"name": ["value"]}`) and `recordedtime`,
 * plus `modelname`, `modelversion` and `traceparent` (the CloudEvents tracing extension) when known.
 * Data: the request as the client sent it and the response after postprocess, as JSON.
 *
 * @publicApi
 */
export class CloudEventsFormatter implements RecordFormatter {
  private readonly fixed = new Map<string, Readonly<Record<string, string>>>();

  constructor(
    private readonly settings: CloudEventsSettings,
    private readonly now: () => number = Date.now,
  ) {}

  format(event: InferenceEvent): MonitoringRecord[] {
    const records: MonitoringRecord[] = [];
    const recorded = rfc3339(this.now());
    const fixed = this.fixedAttributes(event);
    const metadata = event.traceparent === undefined ? '{}' : JSON.stringify({ traceparent: [event.traceparent] });
    const ended = rfc3339(event.startedAt + event.durationMs);
    const body =
      sentRequestOf(event) ?? (event.rawRequest !== undefined || event.request === undefined ? wireRequestJson(event.rawRequest, event.id) : requestJson(event.request, event.id));
    records.push({ body, cloudEvent: this.attributes(event, CE_REQUEST_TYPE, rfc3339(event.startedAt), fixed, metadata, recorded) });
    if (event.status === 'ok') {
      records.push({ body: responseJson(event.response), cloudEvent: this.attributes(event, CE_RESPONSE_TYPE, ended, fixed, metadata, recorded) });
    } else if (this.settings.errorEvents) {
      records.push({
        body: '{"error":' + JSON.stringify(event.error ?? 'unknown error') + ',"code":' + JSON.stringify(event.errorCode ?? 'INTERNAL') + '}',
        cloudEvent: this.attributes(event, CE_ERROR_TYPE, ended, fixed, metadata, recorded),
      });
    }
    return records;
  }

  private attributes(
    event: InferenceEvent,
    type: string,
    time: string,
    fixed: Readonly<Record<string, string>>,
    metadata: string,
    recorded: string,
  ): Record<string, string> {
    const attrs: Record<string, string> = { specversion: '1.0', id: event.id, type, source: this.settings.source, time, ...fixed, metadata, recordedtime: recorded };
    if (event.traceparent !== undefined) attrs.traceparent = event.traceparent;
    return attrs;
  }

  private fixedAttributes(event: InferenceEvent): Readonly<Record<string, string>> {
    const key = event.model + '\u0000' + (event.version ?? '');
    let fixed = this.fixed.get(key);
    if (fixed === undefined) {
      const s = this.settings;
      const attrs: Record<string, string> = {
        inferenceservicename: s.inferenceService ?? event.model,
        namespace: s.namespace,
        component: s.component,
        endpoint: s.endpoint,
        modelname: event.model,
      };
      if (event.version !== undefined) attrs.modelversion = event.version;
      fixed = attrs;
      if (this.fixed.size >= MAX_CACHED) this.fixed.clear();
      this.fixed.set(key, fixed);
    }
    return fixed;
  }
}

/**
 * A CloudEvent in structured mode (one JSON object, `data` inline), for line and stream sinks.
 *
 * @publicApi
 */
export function structuredCloudEvent(record: MonitoringRecord): string {
  const attrs = record.cloudEvent;
  if (attrs === undefined) return record.body;
  let text = '{';
  for (const name in attrs) text += JSON.stringify(name) + ':' + JSON.stringify(attrs[name]) + ',';
  return text + '"datacontenttype":"' + CE_DATA_CONTENT_TYPE + '","data":' + record.body + '}';
}

/**
 * The HTTP headers of a CloudEvent in binary mode: `ce-<attribute>` for each attribute and `content-type`.
 * Characters a header cannot carry (controls, non-ASCII) are percent-encoded, as the CloudEvents HTTP binding says;
 * JSON punctuation stays as KServe sends it.
 *
 * @publicApi
 */
export function binaryCloudEventHeaders(record: MonitoringRecord): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': CE_DATA_CONTENT_TYPE };
  const attrs = record.cloudEvent;
  if (attrs === undefined) return headers;
  for (const name in attrs) headers['ce-' + name] = headerValue(attrs[name]);
  return headers;
}

function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : value.replace(/[^\x20-\x7e]/gu, percentEncode);
}

function percentEncode(c: string): string {
  try {
    return encodeURIComponent(c);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD
  }
}
