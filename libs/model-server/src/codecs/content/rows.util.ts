import type { ContentInput, ContentTarget } from './content-codec.interface';
import { invalidRequest } from '../../errors';

/** Deepest nesting of rows accepted (rank of the tensor). @internal */
export const MAX_RANK = 32;

/** Nested rows flattened, with the shape their nesting gives. @internal */
export interface FlatRows {
  shape: number[];
  values: unknown[];
}

/** `row[i][j]...` for the row at `indices` (`row` for the whole body). */
function rowAt(indices: ArrayLike<number>, depth: number, last?: number): string {
  let text = 'row';
  for (let k = 0; k < depth; k++) text += `[${indices[k]}]`;
  return last === undefined ? text : `${text}[${last}]`;
}

/**
 * The messages about rows that are not rectangular, one place for both the value walk ({@link flattenRows}) and the
 * byte scanner of large bodies. `indices` are the positions of the row within each enclosing level.
 *
 * @internal
 */
export const rowsErrors = {
  tooDeep: (where: string) => invalidRequest(`${where}: rows nest deeper than ${MAX_RANK} levels`),
  length: (where: string, indices: ArrayLike<number>, depth: number, got: number, want: number) => {
    // The first row of the same level names the expected length: the last index replaced by 0.
    const first = depth === 0 ? 'row' : `${rowAt(indices, depth - 1)}[0]`;
    return invalidRequest(`${where}: rows must be rectangular; ${rowAt(indices, depth)} has ${got} values where ${first} has ${want}`);
  },
  deeper: (where: string, indices: ArrayLike<number>, depth: number, i: number) =>
    invalidRequest(`${where}: ${rowAt(indices, depth, i)} nests deeper than the first row`),
  object: (where: string, indices: ArrayLike<number>, depth: number, i: number) =>
    invalidRequest(`${where}: ${rowAt(indices, depth, i)} is an object; rows hold numbers, booleans or strings`),
  value: (where: string, indices: ArrayLike<number>, depth: number, i: number) =>
    invalidRequest(`${where}: ${rowAt(indices, depth, i)} is a value where the first row has a list`),
};

/**
 * The shape nested rows give: the lengths along the first row at each depth (a first element that is not a list,
 * or an empty list, ends it). A 400 beyond {@link MAX_RANK} levels.
 */
function probeShape(rows: readonly unknown[], where: string): number[] {
  const shape: number[] = [];
  let probe: unknown = rows;
  while (Array.isArray(probe)) {
    if (shape.length >= MAX_RANK) throw rowsErrors.tooDeep(where);
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  return shape;
}

/**
 * Flattens nested JSON rows (`[[1, 2], [3, 4]]` → shape [2, 2], values [1, 2, 3, 4]) and checks that they are
 * rectangular: every array at one depth has the same length, and values sit only at the deepest level.
 * A flat array is one value per row (shape [N]). Problems are 400s that say where; rows are checked in order, each
 * before the rows inside it. No text is built per row: positions are kept as numbers until a message needs them.
 *
 * @internal
 */
export function flattenRows(rows: readonly unknown[], where: string): FlatRows {
  const shape = probeShape(rows, where);
  const rank = shape.length;
  const values: unknown[] = [];
  // The open rows (one per depth) and, per depth, the index of the row being visited there.
  const levels: (readonly unknown[])[] = [];
  const indices: number[] = [];
  let level: readonly unknown[] = rows;
  let depth = 0;
  for (;;) {
    // Entering `level` at `depth` (its position in `indices[0 .. depth - 1]`): check it, take its values.
    if (level.length !== shape[depth]) throw rowsErrors.length(where, indices, depth, level.length, shape[depth]);
    if (depth === rank - 1) {
      for (let i = 0; i < level.length; i++) {
        const v = level[i];
        if (Array.isArray(v)) throw rowsErrors.deeper(where, indices, depth, i);
        if (typeof v === 'object' && v !== null) throw rowsErrors.object(where, indices, depth, i);
        values.push(v);
      }
    } else {
      for (let i = level.length - 1; i >= 0; i--) {
        if (!Array.isArray(level[i])) throw rowsErrors.value(where, indices, depth, i);
      }
      if (level.length > 0) {
        levels[depth] = level;
        indices[depth] = 0;
        level = level[0] as readonly unknown[];
        depth++;
        continue;
      }
    }
    // Move on to the next row: the next sibling, or up.
    for (;;) {
      if (depth === 0) return { shape, values };
      const parent = levels[depth - 1];
      const next = indices[depth - 1] + 1;
      if (next < parent.length) {
        indices[depth - 1] = next;
        level = parent[next] as readonly unknown[];
        break;
      }
      depth--;
    }
  }
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
