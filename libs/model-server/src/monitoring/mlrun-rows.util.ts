import { createHash } from 'node:crypto';
import { elementTexts } from '../codecs/content/tensor-text.util';
import { checkJsonWritable, writeJsonElements } from '../codecs/json-data.writer';
import { plainResultOf } from '../inference/response-encoder';
import type { InferenceEvent } from '../inference/inference-event.interface';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import type { Tensor } from '../model/tensor.interface';
import { valueJson } from './record-json.util';

/**
 * MLRun's model endpoint uid for a model served under `functionUri`: the SHA-1 of
 * `<project>_<function>_<tag or hash or N/A>_<model>_<version or latest>`, the URI split as MLRun splits a
 * versioned object URI (`<project>/<function>[:<tag>][@<hash>]`) and the model versioned as `<name>:<version>`
 * (`latest` when unversioned), so records land on the endpoint MLRun keeps for that model.
 *
 * @publicApi
 */
export function mlrunEndpointId(functionUri: string, model: string, version: string | undefined): string {
  let uri = functionUri;
  let project = '';
  let tag = '';
  let hash = '';
  const slash = uri.indexOf('/');
  if (slash !== -1) {
    project = uri.slice(0, slash);
    uri = uri.slice(slash + 1);
  }
  const colon = uri.indexOf(':');
  if (colon !== -1) {
    tag = uri.slice(colon + 1);
    uri = uri.slice(0, colon);
  }
  const at = uri.indexOf('@');
  if (at !== -1) {
    hash = uri.slice(at + 1);
    uri = uri.slice(0, at);
  }
  const versioned = `${model}_${version === undefined || version === '' ? 'latest' : version}`;
  return createHash('sha1').update(`${project}_${uri}_${tag || hash || 'N/A'}_${versioned}`, 'utf8').digest('hex');
}

/** Each element of a tensor as JSON text (NaN and infinities as null, as records write them). */
function texts(t: Tensor, where: string): string[] {
  try {
    return elementTexts(t, 'json-record', where);
  } catch {
    // Data not in its typed container: each value as it is.
    const data = t.data as unknown as ArrayLike<unknown>;
    return Array.from({ length: data.length }, (_, i) => valueJson(data[i]));
  }
}

/** A tensor whose first dimension is the batch's rows, with the number of elements per row. */
interface RowPart {
  readonly t: Tensor;
  readonly size: number;
  /** How errors name the tensor (`tensor 'x'`). */
  readonly where: string;
  /** Each element's text, made only when the tensor writer cannot write the data (see {@link rowElements}). */
  texts: string[] | null;
}

/** Whether the tensor JSON writer can write the tensor's data (numbers in their typed container). */
function writable(t: Tensor, where: string): boolean {
  if (t.datatype === 'BYTES') return false;
  try {
    checkJsonWritable(t, where);
    return true;
  } catch {
    return false;
  }
}

/** The tensors whose first dimension is `rows`, with the number of elements per row. */
function byRow(tensors: readonly Tensor[], rows: number): RowPart[] {
  const out: RowPart[] = [];
  for (const t of tensors) {
    if (typeof t !== 'object' || t === null || !Array.isArray(t.shape) || t.shape.length === 0 || t.shape[0] !== rows) continue;
    let size = 1;
    for (let k = 1; k < t.shape.length; k++) size *= t.shape[k];
    const where = `tensor '${t.name}'`;
    out.push({ t, size, where, texts: writable(t, where) ? null : texts(t, where) });
  }
  return out;
}

/**
 * Elements `start .. end - 1` of a part as JSON values separated by commas: written by the tensor JSON writer
 * straight from the data (no string per element), or from each element's text once the writer met a value JSON
 * cannot carry (NaN and infinities are null in records) or the data is not in its typed container.
 */
function rowElements(p: RowPart, start: number, end: number): string {
  if (p.texts === null) {
    try {
      return writeJsonElements(p.t, start, end, p.where);
    } catch {
      p.texts = texts(p.t, p.where);
    }
  }
  return p.texts.slice(start, end).join(',');
}

/** Row `r` of the tensors as one flat JSON list. */
function rowList(parts: readonly RowPart[], r: number): string {
  let list = '[';
  let first = true;
  for (const p of parts) {
    if (p.size === 0) continue;
    if (!first) list += ',';
    list += rowElements(p, r * p.size, (r + 1) * p.size);
    first = false;
  }
  return list + ']';
}

/**
 * The number of rows of a request that is a batch of feature rows: an MLRun-form request, or a v2 request whose
 * first input is `[rows, features]`; undefined for other tensors (they keep the tensor form).
 *
 * @internal
 */
export function batchRows(event: InferenceEvent, request: InferenceRequest): number | undefined {
  const first = request.inputs?.[0];
  if (typeof first !== 'object' || first === null || !Array.isArray(first.shape)) return undefined;
  if (first.shape.length === 2 || (event.form === 'mlrun' && first.shape.length >= 1)) return first.shape[0];
  return undefined;
}

/**
 * `request.inputs` as MLRun's monitoring reads it: one list of scalar features per row, the row's values of every
 * input that has the batch's rows, in input order.
 *
 * @internal
 */
export function inputRowsJson(request: InferenceRequest, rows: number): string {
  const parts = byRow(request.inputs, rows);
  const lines = new Array<string>(rows);
  for (let r = 0; r < rows; r++) lines[r] = rowList(parts, r);
  return '[' + lines.join(',') + ']';
}

/**
 * `resp.outputs` as one prediction per row: the plain values the model returned for an MLRun request (as they
 * are), else per row the values of the outputs that have the batch's rows (a bare value when the row holds one).
 * Undefined when no output is row by row (the response keeps the tensor form).
 *
 * @internal
 */
export function outputRowsJson(response: unknown, rows: number): string | undefined {
  if (typeof response !== 'object' || response === null || !Array.isArray((response as InferenceResponse).outputs)) return undefined;
  const plain = plainResultOf(response as InferenceResponse);
  if (plain !== undefined) return valueJson(plain);
  const parts = byRow((response as InferenceResponse).outputs, rows);
  if (parts.length === 0) return undefined;
  const single = parts.length === 1 && parts[0].size === 1;
  const lines = new Array<string>(rows);
  for (let r = 0; r < rows; r++) lines[r] = single ? rowElements(parts[0], r, r + 1) : rowList(parts, r);
  return '[' + lines.join(',') + ']';
}
