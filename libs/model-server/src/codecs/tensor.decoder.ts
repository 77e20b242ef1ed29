import type { Tensor } from '../model/tensor.interface';
import type { TensorData } from '../model/datatype';
import { describeValue } from './codec-error.util';
import { parseDatatype } from './datatype.util';
import { countElements } from './element-count.util';
import { decodeRawData } from './raw-data.decoder';
import { TensorBudget, UNLIMITED_BUDGET_BYTES } from './tensor-budget';
import { toTensorData } from './tensor-data.util';
import type { WireTensor } from './wire-tensor.interface';
import { clientError } from '../errors/codec.errors';

/**
 * Decodes a tensor as a transport received it into a checked {@link Tensor}: the datatype must be known
 * (lower case accepted), the shape valid, and exactly one of `data` / `raw` present.
 * - `data`: a JSON array (flat or nested, row-major), a bare scalar for a one-element shape, or the
 *   datatype's own typed container (used without a copy); every value must fit the datatype.
 * - `raw`: little-endian bytes whose size must be exactly elements × element size (BYTES: length-prefixed).
 *
 * Every problem is a 400 whose message starts with `where` (e.g. `input 'x'`) and says what to fix. The size
 * of the data is checked against the shape first; then the tensor's decoded size (elements × element size;
 * BYTES: their bytes plus 4 per element) is taken from `budget` (a 413 naming `maxTensorBytes` beyond it)
 * before anything is allocated. Plain values must be finite (`1e999` reads as Infinity: a 400); NaN and
 * infinities travel as binary data.
 *
 * @publicApi
 */
export function decodeTensor(wire: WireTensor, where: string, budget: TensorBudget = new TensorBudget(UNLIMITED_BUDGET_BYTES)): Tensor {
  if (typeof wire !== 'object' || wire === null) {
    throw clientError(`${where}: must be an object with name, datatype, shape and data`);
  }
  const dt = parseDatatype(wire.datatype, where, clientError);
  const shape = wire.shape;
  const count = countElements(shape, where, clientError);
  const hasData = wire.data !== undefined && wire.data !== null;
  const raw = wire.raw;
  let data: TensorData;
  if (raw !== undefined && raw !== null) {
    if (hasData) throw clientError(`${where}: has both 'data' and binary data; send its values only once`);
    if (!(raw instanceof Uint8Array)) throw clientError(`${where}: binary data must be bytes, got ${describeValue(raw)}`);
    data = decodeRawData(raw, dt, shape, count, where, clientError, budget);
  } else if (hasData) {
    data = toTensorData(wire.data, dt, shape, count, where, clientError, budget);
  } else {
    throw clientError(`${where}: has no 'data'; send its values as 'data' (or as binary data)`);
  }
  const tensor = { name: wire.name, datatype: dt, shape: shape.slice(), data } as Tensor;
  if (wire.parameters !== undefined) tensor.parameters = wire.parameters;
  return tensor;
}
