import { stringifyBodyJson } from '../../../codecs/lossless-json';
import type { ContentTarget } from '../../../codecs/content/content-codec.interface';
import { columnsToInputs, rowsToInputs } from '../../../codecs/content/rows.util';
import { outputsJson } from '../../../codecs/content/tensor-text.util';
import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Parameters } from '../../../model/tensor.interface';
import { invalidRequest } from '../../../errors';

/** How MLRun's clients are told what MLRun request shapes are. */
const MEDIA = 'an MLRun request';

/**
 * True when a body is MLRun's request form rather than a v2 request: an object whose `inputs` is a list of rows
 * (lists or values, not tensor objects) or an object of named feature lists (`infer_dict`). v2 requests, which
 * hold tensor objects in `inputs`, stay v2.
 *
 * @internal
 */
export function isMlrunBody(body: unknown): body is Record<string, unknown> & { inputs: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const inputs = (body as { inputs?: unknown }).inputs;
  if (Array.isArray(inputs)) {
    if (inputs.length === 0) return false;
    const first: unknown = inputs[0];
    return typeof first !== 'object' || first === null || Array.isArray(first);
  }
  return typeof inputs === 'object' && inputs !== null;
}

/**
 * An MLRun request as the model's v2 request: its rows (or feature lists) decoded by the rows codec the JSON
 * content codec uses, for the model's declared inputs (`target`); `id` (a string or a number) and `parameters` kept.
 *
 * @internal
 */
export function mlrunRequest(body: Record<string, unknown> & { inputs: unknown }, target: ContentTarget): WireInferenceRequest {
  const inputs = Array.isArray(body.inputs)
    ? rowsToInputs(body.inputs, target, '"inputs"', MEDIA, true)
    : columnsToInputs(body.inputs as Record<string, unknown>, target, '"inputs"', MEDIA, true);
  const wire: WireInferenceRequest = { inputs };
  const id = body.id;
  if (typeof id === 'string' && id !== '') wire.id = id;
  else if (typeof id === 'number' || typeof id === 'bigint') wire.id = String(id);
  else if (id !== undefined && id !== null) throw invalidRequest('"id" must be a string or a number');
  const parameters = body.parameters;
  if (typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)) wire.parameters = parameters as Parameters;
  return wire;
}

/**
 * MLRun's answer to an MLRun request: `{"id", "model_name", "model_version"?, "outputs"}`, where `outputs` is what
 * `predict` returned when it returned plain values (`plain`), else the outputs as plain values (one output: its
 * values nested by its shape; several: an object keyed by output name). `model_name` is `modelName` when given
 * (a member's, for a call routed to it through its router).
 *
 * @internal
 */
export function mlrunResponseJson(response: InferenceResponse, plain: unknown, modelName?: string, modelVersion?: string): string {
  let text = '{"id":' + JSON.stringify(response.id) + ',"model_name":' + JSON.stringify(modelName ?? response.model_name);
  const version = modelName === undefined ? response.model_version : modelVersion;
  if (version !== undefined) text += ',"model_version":' + JSON.stringify(version);
  const outputs = plain !== undefined ? stringifyBodyJson(plain) : outputsJson(response.outputs);
  return text + ',"outputs":' + outputs + '}';
}
