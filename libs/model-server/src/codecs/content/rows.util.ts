import { invalidRequest } from '../../errors/errors';
import type { ContentInput, ContentTarget } from './content-codec.interface';

/** Deepest nesting of rows accepted (rank of the tensor). */
const MAX_RANK = 32;

/** Nested rows flattened, with the shape their nesting gives. @internal */
export interface FlatRows {
  shape: number[];
  values: unknown[];
}

/**
 * Flattens nested JSON rows (`[[1, 2], [3, 4]]` → shape [2, 2], values [1, 2, 3, 4]) and checks that they are
 * rectangular: every array at one depth has the same length, and values sit only at the deepest level.
 * A flat array is one value per row (shape [N]). Problems are 400s that say where.
 *
 * @internal
 */
export function flattenRows(rows: readonly unknown[], where: string): FlatRows {
  const shape: number[] = [];
  let probe: unknown = rows;
  while (Array.isArray(probe)) {
    if (shape.length >= MAX_RANK) throw invalidRequest(`${where}: rows nest deeper than ${MAX_RANK} levels`);
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const rank = shape.length;
  const values: unknown[] = [];
  const stack: { level: readonly unknown[]; depth: number; path: string }[] = [{ level: rows, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { level, depth, path } = stack.pop()!;
    if (level.length !== shape[depth]) {
      throw invalidRequest(`${where}: rows must be rectangular; row${path} has ${level.length} values where row${path.replace(/\[\d+\]$/, '[0]')} has ${shape[depth]}`);
    }
    if (depth === rank - 1) {
      for (let i = 0; i < level.length; i++) {
        const v = level[i];
        if (Array.isArray(v)) throw invalidRequest(`${where}: row${path}[${i}] nests deeper than the first row`);
        if (typeof v === 'object' && v !== null) throw invalidRequest(`${where}: row${path}[${i}] is an object; rows hold numbers, booleans or strings`);
        values.push(v);
      }
      continue;
    }
    // Push children in reverse so they are visited in order.
    for (let i = level.length - 1; i >= 0; i--) {
      const child = level[i];
      if (!Array.isArray(child)) throw invalidRequest(`${where}: row${path}[${i}] is a value where the first row has a list`);
      stack.push({ level: child, depth: depth + 1, path: `${path}[${i}]` });
    }
  }
  return { shape, values };
}

/**
 * The input a rows-style body goes to, or a 400 that tells the client to send a v2 request because the model
 * takes several inputs.
 *
 * @internal
 */
export function rowsInput(target: ContentTarget, mediaType: string): ContentInput {
  if (target.input !== undefined) return target.input;
  const names = target.inputs.map((s) => `'${s.name}'`).join(', ');
  throw invalidRequest(
    `model '${target.model}' takes ${target.inputs.length} inputs (${names}); ${mediaType} carries one, so send a v2 request as application/json`,
  );
}
