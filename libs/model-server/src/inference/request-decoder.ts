import { decodeTensor } from '../codecs';
import { TensorBudget } from '../codecs/tensor-budget';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { clip } from '../errors/clip.util';
import type { InferenceRequest } from '../model/inference.interface';
import type { RequestedOutput, Tensor, TensorSpec } from '../model/tensor.interface';
import type { ModelVersion } from '../repository/model-version';
import { invalidRequest } from '../errors';

/** Declared tensors by name: a map when there are enough of them to make one worth it, else the list itself. */
type SpecLookup = ReadonlyMap<string, TensorSpec> | readonly TensorSpec[];

function lookupOf(specs: readonly TensorSpec[]): SpecLookup {
  if (specs.length <= 8) return specs;
  const map = new Map<string, TensorSpec>();
  for (const s of specs) if (!map.has(s.name)) map.set(s.name, s);
  return map;
}

function find(lookup: SpecLookup, name: string): TensorSpec | undefined {
  if (lookup instanceof Map) return lookup.get(name);
  const specs = lookup as readonly TensorSpec[];
  for (let i = 0; i < specs.length; i++) if (specs[i].name === name) return specs[i];
  return undefined;
}

/**
 * Decodes a structurally checked wire request into typed tensors and checks it against the model's
 * declared signature, before any model hook runs. Requested outputs are checked against the declared
 * outputs only for `infer`. Names are resolved through maps (linear in the request), and every input's
 * decoded size is taken from one budget of `maxTensorBytes` before its data is allocated (413 beyond it).
 *
 * @internal
 */
export function decodeRequest(
  wire: WireInferenceRequest,
  id: string,
  mv: ModelVersion,
  op: string,
  maxTensorBytes: number,
): InferenceRequest {
  const count = wire.inputs.length;
  const inputs: Tensor[] = new Array(count);
  const budget = new TensorBudget(maxTensorBytes);
  // A few inputs are compared directly; a Set only pays off beyond that.
  const seen = count > 8 ? new Set<string>() : null;
  for (let i = 0; i < count; i++) {
    const input = wire.inputs[i];
    const name = input.name;
    if (seen !== null) {
      if (seen.has(name)) throw invalidRequest(`input '${clip(name)}' appears twice`);
      seen.add(name);
    } else {
      for (let j = 0; j < i; j++) {
        if (inputs[j].name === name) throw invalidRequest(`input '${clip(name)}' appears twice`);
      }
    }
    inputs[i] = decodeTensor(input, `input '${clip(name)}'`, budget);
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
  const declared = lookupOf(specs);
  for (const input of inputs) {
    const spec = find(declared, input.name);
    if (spec === undefined) {
      throw invalidRequest(`model ${label} has no input '${clip(input.name)}'; its inputs are ${names(specs)}`);
    }
    if (spec.datatype !== input.datatype) {
      throw invalidRequest(`input '${clip(input.name)}' is ${input.datatype}; model ${label} expects ${spec.datatype}`);
    }
    if (!shapeFits(input.shape, spec.shape)) {
      throw invalidRequest(
        `input '${clip(input.name)}' has shape [${clip(input.shape.join(','))}]; model ${label} expects [${spec.shape.join(',')}] (-1: any size)`,
      );
    }
  }
  // Every input matched a declared name and no name comes twice: all are there when the counts agree.
  if (inputs.length >= specs.length) return;
  const given = inputs.length > 8 ? new Set(inputs.map((t) => t.name)) : null;
  for (const spec of specs) {
    if (spec.parameters?.optional === true) continue;
    if (given !== null ? !given.has(spec.name) : !inputs.some((t) => t.name === spec.name)) {
      throw invalidRequest(`missing input '${spec.name}' (model ${label} takes ${names(specs)})`);
    }
  }
}

function checkRequestedOutputs(
  requested: readonly RequestedOutput[],
  declared: readonly TensorSpec[] | undefined,
  label: string,
): void {
  const index = declared === undefined ? undefined : lookupOf(declared);
  const seen = requested.length > 8 ? new Set<string>() : null;
  for (let i = 0; i < requested.length; i++) {
    const name = requested[i].name;
    if (seen !== null) {
      if (seen.has(name)) throw invalidRequest(`output '${clip(name)}' is requested twice`);
      seen.add(name);
    } else {
      for (let j = 0; j < i; j++) {
        if (requested[j].name === name) throw invalidRequest(`output '${clip(name)}' is requested twice`);
      }
    }
    if (index !== undefined && find(index, name) === undefined) {
      throw invalidRequest(`model ${label} has no output '${clip(name)}'; its outputs are ${names(declared!)}`);
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
  return clip(specs.map((s) => `'${s.name}'`).join(', '), 1000);
}
