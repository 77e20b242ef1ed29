import { decodeTensor } from '../codecs';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { invalidRequest } from '../errors/errors';
import type { InferenceRequest } from '../model/inference.interface';
import type { RequestedOutput, Tensor, TensorSpec } from '../model/tensor.interface';
import type { ModelVersion } from '../repository/model-version';

/**
 * Decodes a structurally checked wire request into typed tensors and checks it against the model's
 * declared signature, before any model hook runs. Requested outputs are checked against the declared
 * outputs only for `infer`.
 *
 * @internal
 */
export function decodeRequest(wire: WireInferenceRequest, id: string, mv: ModelVersion, op: string): InferenceRequest {
  const count = wire.inputs.length;
  const inputs: Tensor[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const input = wire.inputs[i];
    for (let j = 0; j < i; j++) {
      if (inputs[j].name === input.name) throw invalidRequest(`input '${input.name}' appears twice`);
    }
    inputs[i] = decodeTensor(input, `input '${input.name}'`);
  }
  if (mv.inputs !== undefined) checkInputs(inputs, mv.inputs, mv.label);
  // Declared outputs describe inference; explain and operations may answer with others.
  if (wire.outputs !== undefined) checkRequestedOutputs(wire.outputs, op === 'infer' ? mv.outputs : undefined, mv.label);
  const request: InferenceRequest = { id, inputs };
  if (wire.parameters !== undefined) request.parameters = wire.parameters;
  if (wire.outputs !== undefined) request.outputs = wire.outputs;
  return request;
}

function checkInputs(inputs: readonly Tensor[], specs: readonly TensorSpec[], label: string): void {
  for (const input of inputs) {
    const spec = specs.find((s) => s.name === input.name);
    if (spec === undefined) {
      throw invalidRequest(`model ${label} has no input '${input.name}'; its inputs are ${names(specs)}`);
    }
    if (spec.datatype !== input.datatype) {
      throw invalidRequest(`input '${input.name}' is ${input.datatype}; model ${label} expects ${spec.datatype}`);
    }
    if (!shapeFits(input.shape, spec.shape)) {
      throw invalidRequest(
        `input '${input.name}' has shape [${input.shape.join(',')}]; model ${label} expects [${spec.shape.join(',')}] (-1: any size)`,
      );
    }
  }
  for (const spec of specs) {
    if (spec.parameters?.optional === true) continue;
    if (!inputs.some((t) => t.name === spec.name)) {
      throw invalidRequest(`missing input '${spec.name}' (model ${label} takes ${names(specs)})`);
    }
  }
}

function checkRequestedOutputs(
  requested: readonly RequestedOutput[],
  declared: readonly TensorSpec[] | undefined,
  label: string,
): void {
  for (let i = 0; i < requested.length; i++) {
    const name = requested[i].name;
    for (let j = 0; j < i; j++) {
      if (requested[j].name === name) throw invalidRequest(`output '${name}' is requested twice`);
    }
    if (declared !== undefined && !declared.some((s) => s.name === name)) {
      throw invalidRequest(`model ${label} has no output '${name}'; its outputs are ${names(declared)}`);
    }
  }
}

function shapeFits(shape: readonly number[], spec: readonly number[]): boolean {
  if (shape.length !== spec.length) return false;
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] !== -1 && spec[i] !== shape[i]) return false;
  }
  return true;
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `'${s.name}'`).join(', ');
}
