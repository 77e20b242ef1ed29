import { describeValue } from './codec-error.util';
import { clientError } from '../errors/codec.errors';
import type { CodecErrorFactory } from '../errors';

/** The most elements one tensor may hold (2^32). @publicApi */
export const MAX_ELEMENT_COUNT = 2 ** 32;

/**
 * A shape as messages show it, e.g. `[2,3]`.
 *
 * @internal
 */
export function formatShape(shape: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < shape.length; i++) {
    if (i > 0) text += ',';
    const d = shape[i];
    text += typeof d === 'number' ? String(d) : describeValue(d);
  }
  return text + ']';
}

/**
 * The number of elements of `shape`, with errors built by `fail`. See {@link elementCount}.
 *
 * @internal
 */
export function countElements(shape: unknown, where: string, fail: CodecErrorFactory): number {
  if (!Array.isArray(shape)) {
    throw fail(`${where}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  let hasZero = false;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw fail(
        `${where}: shape ${formatShape(shape)} has ${describeValue(d)} at index ${i}; dimensions must be non-negative integers`,
      );
    }
    if (d === 0) hasZero = true;
  }
  if (hasZero) return 0;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    n *= shape[i] as number;
    if (n > MAX_ELEMENT_COUNT) {
      throw fail(
        `${where}: shape ${formatShape(shape)} is too large; a tensor may hold at most 2^32 (${MAX_ELEMENT_COUNT}) elements`,
      );
    }
  }
  return n;
}

/**
 * The number of elements of a row-major `shape`: the product of its dimensions (`[]` is a scalar: 1;
 * any 0 dimension: 0). Every dimension must be a non-negative safe integer and the product at most 2^32;
 * otherwise a 400 naming the tensor (`where`, e.g. `input 'x'`).
 *
 * @publicApi
 */
export function elementCount(shape: readonly number[], where: string): number {
  return countElements(shape, where, clientError);
}
