import { ErrorCode } from '../errors/error-code.enum';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import type { InferenceEvent } from '../inference/inference-event.interface';
import type { LoggedResults, MonitoringRecord, RecordFormatter, SamplingInfo } from './monitoring-record.interface';
import { batchRows, inputRowsJson, mlrunEndpointId, outputRowsJson } from './mlrun-rows.util';
import { errorRequestJson, requestJson, responseJson, sentRequestOf, valueJson, wireRequestJson } from './record-json.util';
import { mlrunWhen } from './record-time.util';

/** What every MLRun record of this server says about where it comes from. @publicApi */
export interface MlrunRecordSettings {
  /** `function_uri`: `<project>/<function>[:<tag>][@<hash>]`. */
  functionUri: string;
  /** `host`. */
  host: string;
  /** `worker`. */
  worker: number;
  /** Sampling of successful requests, when some are left out: the share logged and each record's weight. */
  sampling?: SamplingInfo;
  /**
   * `endpoint_id` by model (`<name>`) or model version (`<name>:<version>`), for endpoints MLRun registered with
   * ids of their own; others get the id MLRun computes from `functionUri` and the versioned model name.
   */
  endpointIds?: Readonly<Record<string, string>>;
  /**
   * Also write error records for requests refused before the model ran (malformed bodies, failed checks, not ready,
   * overloaded). Default false: like MLRun, only failed model calls get one; the others are counted in metrics.
   */
  logClientErrors?: boolean;
}


/** What has a `loggedResults` hook: a model that overrides it. @publicApi */
export interface LoggedResultsSource {
  loggedResults(request: InferenceRequest, response: unknown, op: string): LoggedResults | null | undefined | void;
}

/** Finds the model an event belongs to when it overrides `loggedResults`, or null. @publicApi */
export type LoggedResultsLookup = (event: InferenceEvent) => LoggedResultsSource | null;

/** Where the formatter reports a hook that threw (once per model). @publicApi */
export type FormatWarning = (message: string) => void;

const NO_HOOKS: LoggedResultsLookup = () => null;
const MAX_CACHED_PREFIXES = 10_000;

/** The request of a record: the client's own text when the event has it (nothing to write again), else written out. */
function loggedRequest(event: InferenceEvent, request: InferenceRequest): string {
  return sentRequestOf(event) ?? requestJson(request);
}

function hasKeys(o: object | undefined): boolean {
  if (o === undefined) return false;
  for (const _ in o) return true;
  return false;
}

/**
 * A stream's facts in its record: parts sent, milliseconds to the first one, the whole stream's milliseconds
 * and how it ended (`completed`, `cancelled`, `deadline`, `error`).
 */
function streamJson(event: InferenceEvent): string {
  const s = event.stream!;
  const first = s.firstChunkMs === undefined ? 'null' : String(Math.round(s.firstChunkMs * 1000) / 1000);
  return '{"chunks":' + s.chunks + ',"first_chunk_ms":' + first + ',"total_ms":' + String(Math.round(event.durationMs * 1000) / 1000) + ',"ending":"' + s.ending + '"}';
}

/**
 * Writes MLRun's model-monitoring stream record (the `_ModelLogPusher` format, one record per request):
 * `class`, `worker`, `model`, `version` (`""` when unversioned), `host`, `function_uri`, `labels` (only when
 * non-empty), then for a success `request` (after preprocess/validate; the client's JSON text as sent when
 * no hook changed it), `op`, `resp` (after postprocess),
 * `when` (start, `2024-10-23 10:15:52.123456+00:00`), `microsec` (the **total** latency in microseconds, not
 * MLRun's sub-second remainder) and `metrics` (only when set); for a failure `request` (id set), `op`, `when`
 * and `error`. A stream's record (`predictStream`) has `resp` as its parts assembled and `stream` (`chunks`,
 * `first_chunk_ms`, `total_ms`, `ending`), failed or not. Extra fields other consumers ignore: `model_class` (MLRun 1.8+), `error_code`, `statistics`,
 * `traceparent`, and with sampling `sampling_percentage` and `_count` (the weight: requests per record).
 *
 * @publicApi
 */
export class MlrunRecordFormatter implements RecordFormatter {
  private readonly prefixes = new Map<string, string>();
  private lastPrefix: { model: string; version: string | undefined; modelClass: string; labels: InferenceEvent['labels']; text: string } | null = null;
  private readonly sampling: string;
  private readonly warned = new Set<string>();
  /** `,"when":"` and the date and time up to the seconds, for the second last written (most records share it). */
  private second = NaN;
  private secondText = '';
  /** `,"op":"<op>"` for the op last written. */
  private lastOp: string | undefined;
  private lastOpText = '';

  constructor(
    private readonly settings: MlrunRecordSettings,
    private readonly loggedResultsOf: LoggedResultsLookup = NO_HOOKS,
    private readonly warn: FormatWarning = () => undefined,
  ) {
    const sampling = settings.sampling;
    this.sampling =
      sampling === undefined || sampling.weight === 1
        ? ''
        : `,"sampling_percentage":${sampling.percentage},"effective_sample_count":${sampling.weight},"_count":${sampling.weight}`;
  }

  format(event: InferenceEvent): MonitoringRecord[] {
    return this.logs(event) ? [{ body: this.record(event) }] : [];
  }

  /**
   * Whether an event gets a record: infer and explain do, custom operations do not (MLRun writes none); a failure
   * does when the model call failed (in `predict` / `explain`, or a fault of model code or the server after the
   * request was admitted), a client's mistake only with `logClientErrors`.
   */
  logs(event: InferenceEvent): boolean {
    if (event.op !== 'infer' && event.op !== 'explain') return false;
    if (event.status === 'ok' || this.settings.logClientErrors === true) return true;
    const stage = event.failedStage;
    if (stage === undefined) return false;
    if (stage === 'predict' || stage === 'explain') return true;
    const code = event.errorCode;
    return code === ErrorCode.ModelError || code === ErrorCode.Internal || code === ErrorCode.DeadlineExceeded;
  }

  /** The record of one event, as JSON text. */
  record(event: InferenceEvent): string {
    let text = this.prefix(event);
    const when = this.when(event.startedAt);
    if (event.status === 'ok') {
      text += this.loggedViews(event) + when + ',"microsec":' + Math.round(event.durationMs * 1000);
      if (hasKeys(event.metrics)) text += ',"metrics":' + valueJson(event.metrics);
      text += this.sampling;
    } else {
      const request = errorRequestJson(event);
      text +=
        ',"request":' + request + this.op(event.op) + when + ',"error":' + JSON.stringify(event.error ?? 'unknown error') +
        ',"error_code":' + JSON.stringify(event.errorCode ?? 'INTERNAL');
    }
    if (event.stream !== undefined) text += ',"stream":' + streamJson(event);
    if (hasKeys(event.statistics)) text += ',"statistics":' + valueJson(event.statistics);
    if (event.traceparent !== undefined) text += ',"traceparent":' + JSON.stringify(event.traceparent);
    return text + '}';
  }

  /** `"request":...,"op":...,"resp":...`, as the model's `loggedResults` hook shapes them. */
  private loggedViews(event: InferenceEvent): string {
    const op = this.op(event.op);
    const request = event.request;
    if (request === undefined) return ',"request":' + wireRequestJson(event.rawRequest, event.id) + op + ',"resp":' + responseJson(event.response);
    const source = this.loggedResultsOf(event);
    let chosen: LoggedResults | null | undefined | void;
    if (source !== null) {
      try {
        chosen = source.loggedResults(request, event.response, event.op);
      } catch (err) {
        this.warnOnce(event.model, `model '${event.model}': loggedResults threw (${err instanceof Error ? err.message : String(err)}); its records log the request and response as they are`);
      }
    }
    if (chosen === null || chosen === undefined || typeof chosen !== 'object') {
      const rows = this.rowViews(event, request, op);
      if (rows !== undefined) return rows;
      return ',"request":' + loggedRequest(event, request) + op + ',"resp":' + responseJson(event.response);
    }
    const id = JSON.stringify(event.id);
    const inputs = chosen.inputs !== undefined ? '{"id":' + id + ',"inputs":' + valueJson(chosen.inputs) + '}' : loggedRequest(event, request);
    const outputs = chosen.outputs !== undefined ? '{"id":' + id + ',"outputs":' + valueJson(chosen.outputs) + '}' : responseJson(event.response);
    return ',"request":' + inputs + op + ',"resp":' + outputs;
  }

  /**
   * A batch of rows as MLRun's monitoring reads it: `request.inputs` one list of features per row, `resp.outputs`
   * one prediction per row; undefined when the request is no batch of rows or the response not row by row.
   */
  private rowViews(event: InferenceEvent, request: InferenceRequest, op: string): string | undefined {
    const rows = batchRows(event, request);
    if (rows === undefined) return undefined;
    const outputs = outputRowsJson(event.response, rows);
    if (outputs === undefined) return undefined;
    const response = event.response as InferenceResponse;
    const id = JSON.stringify(event.id);
    let resp = '{"id":' + id + ',"model_name":' + JSON.stringify(response.model_name);
    if (response.model_version !== undefined) resp += ',"model_version":' + JSON.stringify(response.model_version);
    resp += ',"outputs":' + outputs + '}';
    return ',"request":{"id":' + id + ',"inputs":' + inputRowsJson(request, rows) + '}' + op + ',"resp":' + resp;
  }

  private prefix(event: InferenceEvent): string {
    // Consecutive events mostly come from the same model version: the same strings, compared by identity first.
    const last = this.lastPrefix;
    if (last !== null && last.model === event.model && last.version === event.version && last.modelClass === event.modelClass && last.labels === event.labels) {
      return last.text;
    }
    const key = event.model + '\u0000' + (event.version ?? '') + '\u0000' + event.modelClass;
    let prefix = this.prefixes.get(key);
    if (prefix === undefined) {
      const s = this.settings;
      const cls = JSON.stringify(event.modelClass);
      prefix =
        '{"class":' + cls + ',"model_class":' + cls + ',"worker":' + s.worker + ',"model":' + JSON.stringify(event.model) +
        ',"version":' + JSON.stringify(event.version ?? '') + ',"host":' + JSON.stringify(s.host) + ',"function_uri":' + JSON.stringify(s.functionUri) +
        ',"endpoint_id":' + JSON.stringify(this.endpointId(event.model, event.version));
      if (hasKeys(event.labels)) prefix += ',"labels":' + valueJson(event.labels);
      if (this.prefixes.size >= MAX_CACHED_PREFIXES) this.prefixes.clear();
      this.prefixes.set(key, prefix);
    }
    this.lastPrefix = { model: event.model, version: event.version, modelClass: event.modelClass, labels: event.labels, text: prefix };
    return prefix;
  }

  /** The configured id of the model's endpoint (version first), else the one MLRun computes. */
  private endpointId(model: string, version: string | undefined): string {
    const ids = this.settings.endpointIds;
    const configured = ids === undefined ? undefined : ((version !== undefined ? ids[`${model}:${version}`] : undefined) ?? ids[model]);
    return configured ?? mlrunEndpointId(this.settings.functionUri, model, version);
  }

  /** `,"when":"<mlrunWhen>"`, with the date and time of the current second written once. */
  private when(epochMs: number): string {
    const micros = Math.round(epochMs * 1000);
    const second = Math.floor(micros / 1_000_000);
    if (second !== this.second) {
      this.second = second;
      this.secondText = ',"when":"' + mlrunWhen(second * 1000).slice(0, 19) + '.';
    }
    const fraction = String(micros - second * 1_000_000);
    return this.secondText + '000000'.slice(fraction.length) + fraction + '+00:00"';
  }

  /** `,"op":"<op>"`, the last one kept (an endpoint's records mostly share it). */
  private op(op: string): string {
    if (op !== this.lastOp) {
      this.lastOp = op;
      this.lastOpText = ',"op":' + JSON.stringify(op);
    }
    return this.lastOpText;
  }

  private warnOnce(model: string, message: string): void {
    if (this.warned.has(model)) return;
    this.warned.add(model);
    this.warn(message);
  }
}
