import type { Parameters, RequestedOutput } from '../model/tensor.interface';

/**
 * A tensor as a transport received it, before decoding. Exactly one of `data` or `raw` carries its values:
 * - `data`: a JSON array (flat or nested, numbers / bigints / booleans / strings), or an already typed
 *   container of the datatype (e.g. a BigInt64Array built by the gRPC converter, or a ByteStrings for BYTES);
 * - `raw`: little-endian bytes (binary extension, gRPC `raw_input_contents`); BYTES elements are each a
 *   4-byte little-endian length followed by the bytes.
 *
 * @publicApi
 */
export interface WireTensor {
  name: string;
  /** As received; the decoder checks it (upper case; lower case is accepted). */
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  data?: unknown;
  raw?: Uint8Array;
}

/**
 * An inference request as a transport received it, structurally checked but not decoded.
 *
 * @publicApi
 */
export interface WireInferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: WireTensor[];
  outputs?: RequestedOutput[];
}
