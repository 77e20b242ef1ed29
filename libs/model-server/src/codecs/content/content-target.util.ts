import { DEFAULT_REQUEST_LIMITS } from '../../inference/request-limits';
import type { TensorSpec } from '../../model/tensor.interface';
import type { ContentInput, ContentTarget } from './content-codec.interface';

/** The input bare values fill when a model declares none. */
const DEFAULT_INPUT: ContentInput = { name: 'input-0', datatype: 'FP32', shape: undefined, declared: false };
/** The same, its datatype taken from the values sent. */
const INFERRED_INPUT: ContentInput = { ...DEFAULT_INPUT, inferDatatype: true };

/** How {@link contentTarget} treats a model that declares no input. @publicApi */
export interface ContentTargetOptions {
  /** Take the datatype of the bare values from the values themselves (default false: FP32). */
  inferUndeclared?: boolean;
  /** The server's `maxJsonValueBytes` (default: the default limit). */
  maxJsonValueBytes?: number;
}

/**
 * The {@link ContentTarget} of a model from its declared inputs: bare values go to its only input (or its only
 * required one), or to `input-0` FP32 when it declares none; with several, only a v2 request can address them.
 * `maxTensorBytes` bounds what decoding the body may allocate (the server passes its own setting; the default is
 * the default `maxTensorBytes`, 128 MiB). With `inferUndeclared`, a model without declared inputs gets its datatype
 * from the values sent (numbers INT64 / FP64, strings BYTES, booleans BOOL), as KServe v1 clients expect.
 *
 * @publicApi
 */
export function contentTarget(
  model: string,
  inputs: readonly TensorSpec[],
  maxTensorBytes: number = DEFAULT_REQUEST_LIMITS.maxTensorBytes,
  options: ContentTargetOptions = {},
): ContentTarget {
  let spec: TensorSpec | undefined;
  if (inputs.length === 1) spec = inputs[0];
  else if (inputs.length > 1) {
    const required = inputs.filter((s) => s.parameters?.optional !== true);
    if (required.length === 1) spec = required[0];
  }
  const input: ContentInput | undefined =
    inputs.length === 0 ? (options.inferUndeclared === true ? INFERRED_INPUT : DEFAULT_INPUT) : spec === undefined ? undefined : { name: spec.name, datatype: spec.datatype, shape: spec.shape, declared: true };
  const target: ContentTarget = { model, inputs, input, maxTensorBytes };
  return options.maxJsonValueBytes === undefined ? target : { ...target, maxJsonValueBytes: options.maxJsonValueBytes };
}
