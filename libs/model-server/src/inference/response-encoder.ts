import { encodeOutput } from '../codecs';
import { isPlainResult, plainOutputs } from '../codecs/output.encoder';
import { clip } from '../errors/clip.util';
import type { InferenceRequest, InferenceResponse, InferenceResult } from '../model/inference.interface';
import type { OutputTensor, Tensor } from '../model/tensor.interface';
import type { ModelVersion } from '../repository/model-version';
import { invalidRequest, notAnInferenceResult } from '../errors';

/** True when `value` has the shape of an {@link InferenceResult} (an `outputs` array). @internal */
export function isInferenceResult(value: unknown): value is InferenceResult {
  return typeof value === 'object' && value !== null && Array.isArray((value as InferenceResult).outputs);
}

/** The model's outputs by name (the first of a name wins, as a scan in order would find it). */
function producedByName(produced: readonly OutputTensor[]): Map<string, OutputTensor> {
  const map = new Map<string, OutputTensor>();
  for (const o of produced) {
    if (typeof o !== 'object' || o === null) continue;
    const name = o.name;
    if (!map.has(name)) map.set(name, o);
  }
  return map;
}

/**
 * Checks and encodes what the model returned, keeps only the requested outputs (in the order asked),
 * and fills the response's id, model name and version.
 *
 * @internal
 */
export function encodeResponse(result: unknown, mv: ModelVersion, request: InferenceRequest, stage: string, keepPlain = false): InferenceResponse {
  if (!isInferenceResult(result)) {
    if (!isPlainResult(result)) throw notAnInferenceResult(mv.label, stage);
    return plainResponse(result, mv, request, keepPlain);
  }
  const produced = result.outputs;
  const requested = request.outputs;
  let outputs: Tensor[];
  if (requested === undefined || requested.length === 0) {
    outputs = new Array(produced.length);
    for (let i = 0; i < produced.length; i++) outputs[i] = encodeOutput(produced[i], `output '${produced[i]?.name}'`);
  } else {
    outputs = new Array(requested.length);
    const byName = produced.length > 8 ? producedByName(produced) : null;
    for (let i = 0; i < requested.length; i++) {
      const name = requested[i].name;
      const out = byName !== null ? byName.get(name) : produced.find((o) => o?.name === name);
      if (out === undefined) {
        throw invalidRequest(
          `model ${mv.label} has no output '${clip(name)}'; it produced ${clip(produced.map((o) => `'${o?.name}'`).join(', '), 1000)}`,
        );
      }
      outputs[i] = encodeOutput(out, `output '${clip(name)}'`);
    }
  }
  const response: InferenceResponse = { model_name: mv.name, id: request.id, outputs };
  if (mv.version !== undefined) response.model_version = mv.version;
  if (result.parameters !== undefined) response.parameters = result.parameters;
  return response;
}

/** Plain values model code returned, by the response made of them, for answers that carry them as they are. */
const PLAIN_RESULTS = new WeakMap<InferenceResponse, object>();

/**
 * The plain values (an array or an object, not `{ outputs }`) model code returned for a request in MLRun's form,
 * which its answer carries as they are; undefined when the model returned tensors.
 *
 * @internal
 */
export function plainResultOf(response: InferenceResponse): unknown {
  return PLAIN_RESULTS.get(response);
}

/**
 * The response to plain values: wrapped into tensors with inferred datatypes (a v2 answer needs them); for a
 * request in MLRun's form (`keepPlain`) the values are also kept as they are, and values that make no tensor
 * (a list of objects, ragged rows) answer as they are with no tensors.
 */
function plainResponse(result: unknown, mv: ModelVersion, request: InferenceRequest, keepPlain: boolean): InferenceResponse {
  let outputs: Tensor[];
  try {
    outputs = plainOutputs(result);
  } catch (err) {
    if (!keepPlain) throw err;
    outputs = [];
  }
  const response: InferenceResponse = { model_name: mv.name, id: request.id, outputs };
  if (mv.version !== undefined) response.model_version = mv.version;
  if (keepPlain) PLAIN_RESULTS.set(response, result as object);
  return response;
}
