import type { Datatype, TensorData, TensorDataMap } from './datatype';

/** Free-form parameters of a request, a response or a tensor (`parameters` on the wire). @publicApi */
export type Parameters = Record<string, unknown>;

/**
 * A decoded tensor: checked against its shape and datatype, data in its typed container.
 *
 * @publicApi
 */
export interface Tensor<D extends Datatype = Datatype> {
  name: string;
  datatype: D;
  /** Row-major dimensions; `[]` is a scalar. */
  shape: number[];
  data: TensorDataMap[D];
  parameters?: Parameters;
}

/** A tensor of any datatype. @publicApi */
export type AnyTensor = { [D in Datatype]: Tensor<D> }[Datatype];

/**
 * A tensor as model code may return it: `data` as its typed container or as a plain array
 * (numbers, bigints, booleans, strings or Buffers, flat or nested); BYTES as a `ByteStrings` or as
 * strings / Buffers (copied into one ByteStrings). `datatype` may be left out when `data`
 * is a typed array (Float32Array → FP32, BigInt64Array → INT64, ...); `shape` defaults to `[data.length]`.
 *
 * @publicApi
 */
export interface OutputTensor {
  name: string;
  datatype?: Datatype;
  shape?: number[];
  data: TensorData | readonly unknown[];
  parameters?: Parameters;
}

/** An output the client asked for (`outputs` in the request). @publicApi */
export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

/** Names, datatype and shape of a model input or output, as model metadata reports it (-1: any size). @publicApi */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
  parameters?: Parameters;
}

export type { Datatype, TensorData };
