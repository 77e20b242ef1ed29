export { normalizeDatatype, elementSize, datatypeOfTypedArray } from './datatype.util';
export { elementCount, MAX_ELEMENT_COUNT } from './element-count.util';
export { decodeTensor } from './tensor.decoder';
export { encodeOutput } from './output.encoder';
export { writeJsonData } from './json-data.writer';
export { tensorToRaw } from './raw-data.encoder';
export { parseJson, stringifyJson } from './lossless-json';
export { formatFloat32, formatHalf, formatBf16, formatFloat64 } from './float-format.util';
export {
  FP16_MAX,
  BF16_MAX,
  halfBitsToFloat32,
  roundToHalf,
  roundToBf16,
} from './fp16.util';
export type { WireTensor, WireInferenceRequest } from './wire-tensor.interface';
