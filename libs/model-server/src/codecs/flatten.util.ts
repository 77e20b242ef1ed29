import type { CodecErrorFactory } from '../errors';

/** Deepest nesting of tensor data accepted (far beyond any real rank; stops cycles in model output). */
export const MAX_DATA_NESTING = 1024;

/**
 * True when `v` is a nested level of tensor data: a plain array, or a typed array unless
 * `bytesLeaves` says byte arrays (Buffer / Uint8Array) are elements (BYTES).
 */
function isNested(v: unknown, bytesLeaves: boolean): v is ArrayLike<unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return false;
  return !(bytesLeaves && v instanceof Uint8Array);
}

/**
 * The elements of row-major tensor data, flat. A flat array is returned as is (no copy); nested arrays
 * (and typed arrays inside plain arrays) are walked iteratively, so depth costs no stack.
 * With `bytesLeaves`, Buffers / Uint8Arrays are elements rather than levels (BYTES data).
 *
 * @internal
 */
export function flattenValues(
  data: readonly unknown[],
  bytesLeaves: boolean,
  where: string,
  fail: CodecErrorFactory,
): readonly unknown[] {
  const n = data.length;
  let i = 0;
  while (i < n && !isNested(data[i], bytesLeaves)) i++;
  if (i === n) return data;

  const out: unknown[] = data.slice(0, i);
  const levels: ArrayLike<unknown>[] = [data];
  const positions: number[] = [i];
  while (levels.length > 0) {
    const top = levels.length - 1;
    const level = levels[top];
    let p = positions[top];
    let descended = false;
    while (p < level.length) {
      const v = level[p++];
      if (isNested(v, bytesLeaves)) {
        if (levels.length >= MAX_DATA_NESTING) {
          throw fail(`${where}: data nests deeper than ${MAX_DATA_NESTING} levels; send it flat or nested by the shape`);
        }
        positions[top] = p;
        levels.push(v);
        positions.push(0);
        descended = true;
        break;
      }
      out.push(v);
    }
    if (!descended) {
      levels.pop();
      positions.pop();
    }
  }
  return out;
}
