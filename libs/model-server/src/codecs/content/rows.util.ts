import type { TensorSpec } from '../../model/tensor.interface';
import { inferDatatype } from '../output.encoder';
import type { WireTensor } from '../wire-tensor.interface';
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

/** The kind of a row value, for messages about mixed types. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  const t = typeof v;
  return t === 'bigint' ? 'number' : t;
}

/** `row r, column c` of the flat index `i` in rows of `shape` (a flat list is one value per row). */
function cellAt(i: number, shape: readonly number[]): string {
  let width = 1;
  for (let k = 1; k < shape.length; k++) width *= shape[k];
  return `row ${Math.floor(i / width)}, column ${i % width}`;
}

/** Every value of the same kind as the first (numbers, strings or booleans), or a 400 naming the row and column. */
function checkKinds(values: readonly unknown[], shape: readonly number[], where: string): void {
  if (values.length === 0) return;
  const first = kindOf(values[0]);
  for (let i = 0; i < values.length; i++) {
    const kind = kindOf(values[i]);
    if (kind !== first || kind === 'null') {
      throw invalidRequest(`${where}: ${cellAt(i, shape)} is ${kind === 'null' ? 'null' : `a ${kind}`} where row 0, column 0 is a ${first}; rows hold values of one type`);
    }
  }
}

/**
 * The shape rows take in a declared input: a flat list given to an input of rank 2 is one row; a width (or inner
 * dimension) that contradicts the declaration is a 400 that says which.
 */
function fitDeclared(shape: number[], input: { name: string; shape: readonly number[] | undefined }, where: string): number[] {
  const declared = input.shape;
  if (declared === undefined || declared.length === 0) return shape;
  let fitted = shape;
  if (declared.length === shape.length + 1 && declared[0] === -1 && shape.length >= 1) fitted = [1, ...shape];
  const spec = `[${declared.join(', ')}]`;
  if (fitted.length !== declared.length) {
    throw invalidRequest(`${where}: rows of shape [${shape.join(', ')}] do not fit input '${input.name}', declared ${spec}`);
  }
  for (let k = 1; k < declared.length; k++) {
    if (declared[k] >= 0 && declared[k] !== fitted[k]) {
      const what = k === 1 ? 'columns' : `values at depth ${k}`;
      throw invalidRequest(`${where}: row 0 has ${fitted[k]} ${what} where input '${input.name}' declares ${declared[k]} (shape ${spec})`);
    }
  }
  return fitted;
}

/**
 * Rows (`[[5.1, 3.5, 1.4, 0.2], ...]`, or one value per row when flat) as the model's input tensors: the one input
 * bare values go to, with its declared datatype and its width checked; for a model that declares several inputs,
 * one column per input when the rows are that wide. Ragged rows are 400s that say where. With `strict` (MLRun's
 * request form) mixed types and widths that contradict the declared input are 400s naming the row and column, a
 * flat list for an input of rank 2 is one row, and a model that declares no input gets one whose datatype is
 * inferred from the values (numbers INT64 or FP64, strings BYTES, booleans BOOL) instead of the target's default;
 * content codecs leave those checks to the decoder, as their large bodies are read without a value per element.
 *
 * @internal
 */
export function rowsToInputs(rows: readonly unknown[], target: ContentTarget, where: string, mediaType: string, strict: boolean): WireTensor[] {
  const { shape, values } = flattenRows(rows, where);
  if (strict) checkKinds(values, shape, where);
  const input = target.input;
  if (input === undefined) {
    if (shape.length === 2 && shape[1] === target.inputs.length) return columnInputs(shape[0], values, target.inputs);
    rowsInput(target, mediaType);
  }
  const one = input as ContentInput;
  if (!one.declared) return [{ name: one.name, datatype: strict || one.inferDatatype === true ? inferDatatype(values) : one.datatype, shape, data: values }];
  return [{ name: one.name, datatype: one.datatype, shape: strict ? fitDeclared(shape, one, where) : shape, data: values }];
}

/** Column j of `count` rows as input j: `[rows]`, or `[rows, 1]` when the input declares rank 2. */
function columnInputs(count: number, values: readonly unknown[], specs: readonly TensorSpec[]): WireTensor[] {
  const width = specs.length;
  return specs.map((spec, j) => {
    const data = new Array<unknown>(count);
    for (let r = 0; r < count; r++) data[r] = values[r * width + j];
    return { name: spec.name, datatype: spec.datatype, shape: spec.shape.length === 2 ? [count, 1] : [count], data };
  });
}

/**
 * Named feature lists (`{"sepal_length": [5.1, 6.7], "sepal_width": [3.5, 3.0], ...}`, MLRun's `infer_dict` form) as
 * the model's input tensors: by input name when the model declares several, else as rows of one column per key
 * (in the order sent) through {@link rowsToInputs}. Lists of different lengths, unknown or missing names are 400s.
 *
 * @internal
 */
export function columnsToInputs(columns: Readonly<Record<string, unknown>>, target: ContentTarget, where: string, mediaType: string, strict: boolean): WireTensor[] {
  const keys = Object.keys(columns);
  if (keys.length === 0) throw invalidRequest(`${where} names no feature; send {"<feature>": [values, ...], ...} or a list of rows`);
  for (const key of keys) {
    if (!Array.isArray(columns[key])) throw invalidRequest(`${where}.${key} must be a list of values, one per row`);
  }
  if (target.input === undefined) {
    const names = target.inputs.map((s) => s.name);
    for (const key of keys) {
      if (!names.includes(key)) throw invalidRequest(`${where}.${key} is not an input of model '${target.model}'; its inputs are ${names.map((n) => `'${n}'`).join(', ')}`);
    }
    return target.inputs
      .filter((spec) => keys.includes(spec.name) || spec.parameters?.optional !== true)
      .map((spec) => {
        const list = columns[spec.name];
        if (list === undefined) throw invalidRequest(`${where} has no '${spec.name}'; model '${target.model}' needs ${names.map((n) => `'${n}'`).join(', ')}`);
        const at = `${where}.${spec.name}`;
        const { shape, values } = flattenRows(list as unknown[], at);
        if (strict) checkKinds(values, shape, at);
        return { name: spec.name, datatype: spec.datatype, shape: strict ? fitDeclared(shape, spec, at) : shape, data: values };
      });
  }
  const count = (columns[keys[0]] as unknown[]).length;
  for (const key of keys) {
    const n = (columns[key] as unknown[]).length;
    if (n !== count) throw invalidRequest(`${where}.${key} has ${n} values where ${where}.${keys[0]} has ${count}; every feature needs one value per row`);
  }
  const rows = new Array<unknown[]>(count);
  for (let r = 0; r < count; r++) rows[r] = keys.map((key) => (columns[key] as unknown[])[r]);
  return rowsToInputs(rows, target, where, mediaType, strict);
}
