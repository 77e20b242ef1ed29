import type { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import { describeValue } from './codec-error.util';
import { elementSize, isTensorContainer } from './datatype.util';
import { formatShape } from './element-count.util';
import { flattenValues } from './flatten.util';
import type { TensorBudget } from './tensor-budget';
import { convertValues } from './value-converter.util';
import type { CodecErrorFactory } from '../errors';

/**
 * True for a value that can stand alone as one element (a bare scalar for a one-element shape):
 * a number, bigint, boolean or string, or a Buffer / Uint8Array when the datatype is BYTES.
 */
function isScalar(v: unknown, dt: Datatype): boolean {
  const t = typeof v;
  if (t === 'number' || t === 'bigint' || t === 'boolean' || t === 'string') return true;
  return dt === 'BYTES' && v instanceof Uint8Array;
}

/**
 * Tensor data from element values (not raw bytes): the datatype's own container is used as is; a plain
 * array (flat or nested) or a typed array of another class is converted with range checks; a bare
 * scalar is one element. The element count must equal `count` (the product of `shape`), checked before
 * anything is allocated; with a `budget` (decoding), the decoded size is then taken from it (see
 * {@link convertValues}).
 *
 * @internal
 */
export function toTensorData(
  data: unknown,
  dt: Datatype,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget | null = null,
): TensorData {
  if (isTensorContainer(data, dt)) {
    const container = data as TensorData;
    checkCount(container.length, shape, count, where, fail);
    if (budget !== null) {
      budget.take(dt === 'BYTES' ? (container as ByteStrings).byteLength + 4 * count : count * elementSize(dt), where);
    }
    return container;
  }
  let values: ArrayLike<unknown>;
  if (Array.isArray(data)) {
    values = flattenValues(data, dt === 'BYTES', where, fail);
  } else if (isScalar(data, dt)) {
    if (count !== 1) {
      throw fail(`${where}: data must be an array; shape ${formatShape(shape)} needs ${count} elements, got a single value`);
    }
    values = [data];
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    values = data as unknown as ArrayLike<unknown>;
  } else {
    throw fail(`${where}: data must be an array of ${dt} values, got ${describeValue(data)}`);
  }
  checkCount(values.length, shape, count, where, fail);
  return convertValues(values, dt, where, fail, budget);
}

function checkCount(got: number, shape: readonly number[], count: number, where: string, fail: CodecErrorFactory): void {
  if (got !== count) throw fail(`${where}: shape ${formatShape(shape)} needs ${count} elements, got ${got}`);
}
