import { ModelServerError } from '../../errors/model-server.error';
import { DeferredTensorData } from '../deferred-tensor-data';
import { parseLargeJsonBody } from '../json-body.parser';
import { ROWS_SPANS } from '../json-body.scanner';
import { parseJson } from '../lossless-json';
import { contentTarget } from './content-target.util';
import { columnsToInputs, flattenRows, MAX_RANK, rowsToInputs } from './rows.util';
import { rowsShape } from './rows-span.scanner';
import { invalidRequest } from '../../errors';
import { generator, type Next } from '../../../../../test/helpers/seeded-random';

/** flattenRows as it was written before (a path string per row): the reference for messages and their order. */
function flattenRowsBefore(rows: readonly unknown[], where: string): { shape: number[]; values: unknown[] } {
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
    for (let i = level.length - 1; i >= 0; i--) {
      const child = level[i];
      if (!Array.isArray(child)) throw invalidRequest(`${where}: row${path}[${i}] is a value where the first row has a list`);
      stack.push({ level: child, depth: depth + 1, path: `${path}[${i}]` });
    }
  }
  return { shape, values };
}

/** Rows of a random shape, then a few random damages: a row longer or shorter, a list for a value and back, objects. */
function randomRows(next: Next): unknown[] {
  const rank = 1 + Math.floor(next() * 4);
  const shape = Array.from({ length: rank }, () => Math.floor(next() * 4) + (next() < 0.1 ? 0 : 1));
  const build = (depth: number): unknown => {
    if (depth === rank) return next() < 0.8 ? Math.floor(next() * 100) : next() < 0.5 ? 'a"b' : next() < 0.5 ? null : true;
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  const rows = build(0) as unknown[];
  for (let k = Math.floor(next() * 4); k > 0; k--) damage(next, rows, 0);
  return rows;
}

function damage(next: Next, level: unknown[], depth: number): void {
  if (level.length === 0) {
    level.push(next() < 0.5 ? 1 : []);
    return;
  }
  const i = Math.floor(next() * level.length);
  const child = level[i];
  if (Array.isArray(child) && next() < 0.6) return damage(next, child, depth + 1);
  switch (Math.floor(next() * 6)) {
    case 0:
      level.push(Array.isArray(child) ? [...child] : child);
      return;
    case 1:
      level.splice(i, 1);
      return;
    case 2:
      level[i] = Array.isArray(child) ? 7 : [child];
      return;
    case 3:
      level[i] = { k: [1, 2] };
      return;
    case 4:
      level[i] = [];
      return;
    default:
      level[i] = [[child]];
  }
}

function outcome(fn: () => unknown): string {
  try {
    return 'ok ' + JSON.stringify(fn());
  } catch (err) {
    if (!(err instanceof ModelServerError)) throw err;
    return 'error ' + err.message;
  }
}

describe('flattenRows', () => {
  it('flattens and refuses exactly as before, with the same message for the first problem (random rows)', () => {
    const next = generator(21);
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const rows = randomRows(next);
      const expected = outcome(() => flattenRowsBefore(rows, 'the body'));
      if (expected.startsWith('error')) refused++;
      expect([JSON.stringify(rows), outcome(() => flattenRows(rows, 'the body'))]).toEqual([JSON.stringify(rows), expected]);
    }
    expect(refused).toBeGreaterThan(1500);
  });

  it('refuses rows deeper than 32 levels', () => {
    let rows: unknown = [1];
    for (let i = 0; i < 40; i++) rows = [rows];
    expect(() => flattenRows(rows as unknown[], '"instances"')).toThrow('"instances": rows nest deeper than 32 levels');
  });
});

describe('rowsShape (rows in a large body, from its bytes)', () => {
  it('finds the shape and the first problem as flattenRows does (random rows, random whitespace)', async () => {
    const next = generator(22);
    for (let i = 0; i < 3000; i++) {
      const rows = randomRows(next);
      const text = JSON.stringify(rows, null, i % 3 === 0 ? 1 : undefined);
      const expected = outcome(() => flattenRows(parseJson(text) as unknown[], 'the body').shape);
      const span = (await parseLargeJsonBody(Buffer.from(text), ROWS_SPANS)) as DeferredTensorData;
      expect(span).toBeInstanceOf(DeferredTensorData);
      let got: string;
      try {
        got = 'ok ' + JSON.stringify(await rowsShape(span, 'the body'));
      } catch (err) {
        got = 'error ' + (err as Error).message;
      }
      expect([text, got]).toEqual([text, expected]);
      if (got.startsWith('ok')) expect(span.elements).toBe(flattenRows(parseJson(text) as unknown[], 'the body').values.length);
    }
  });

  it('refuses rows deeper than 32 levels from the bytes', async () => {
    const text = '['.repeat(40) + '1' + ']'.repeat(40);
    const span = (await parseLargeJsonBody(Buffer.from(text), ROWS_SPANS)) as DeferredTensorData;
    await expect(rowsShape(span, '"inputs"')).rejects.toThrow('"inputs": rows nest deeper than 32 levels');
  });
});

describe('rowsToInputs and columnsToInputs (MLRun rows, strict)', () => {
  const IRIS = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);
  const NONE = contentTarget('free', []);
  const TWO = contentTarget('two', [
    { name: 'a', datatype: 'FP64', shape: [-1] },
    { name: 'b', datatype: 'INT32', shape: [-1, 1] },
  ]);
  const rows = (value: unknown[], target = IRIS) => rowsToInputs(value, target, '"inputs"', 'an MLRun request', true);

  it('fills the declared input, a flat list being one row of an input of rank 2', () => {
    expect(rows([[1, 2, 3, 4]])).toEqual([{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }]);
    expect(rows([1, 2, 3, 4])).toEqual([{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }]);
  });

  it('infers the datatype of an undeclared input; without strict it keeps the default', () => {
    expect(rows([[1, 2]], NONE)[0].datatype).toBe('INT64');
    expect(rows([[1.5, 2]], NONE)[0].datatype).toBe('FP64');
    expect(rows(['x'], NONE)[0].datatype).toBe('BYTES');
    expect(rows([true], NONE)[0].datatype).toBe('BOOL');
    expect(rowsToInputs([[1, 2]], NONE, 'the body', 'application/json', false)[0].datatype).toBe('FP32');
  });

  it('gives one column to each of several inputs, and feature lists by name', () => {
    expect(rows([[1.5, 2], [3.5, 4]], TWO)).toEqual([
      { name: 'a', datatype: 'FP64', shape: [2], data: [1.5, 3.5] },
      { name: 'b', datatype: 'INT32', shape: [2, 1], data: [2, 4] },
    ]);
    const byName = columnsToInputs({ b: [[2], [4]], a: [1.5, 3.5] }, TWO, '"inputs"', 'an MLRun request', true);
    expect(byName.map((t) => [t.name, t.shape])).toEqual([['a', [2]], ['b', [2, 1]]]);
    expect(columnsToInputs({ sl: [1, 5], sw: [2, 6], pl: [3, 7], pw: [4, 8] }, IRIS, '"inputs"', 'x', true)[0].data).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('names the row and column of mixed types, nulls and widths that contradict the declaration', () => {
    expect(() => rows([[1, 2, 3, 4], [1, 'x', 3, 4]])).toThrow('"inputs": row 1, column 1 is a string where row 0, column 0 is a number');
    expect(() => rows([[1, 2, null, 4]])).toThrow('"inputs": row 0, column 2 is null');
    expect(() => rows([[1, 2, 3]])).toThrow("\"inputs\": row 0 has 3 columns where input 'input-0' declares 4 (shape [-1, 4])");
    expect(() => rows([[[1, 2, 3, 4]]])).toThrow("\"inputs\": rows of shape [1, 1, 4] do not fit input 'input-0', declared [-1, 4]");
    expect(() => columnsToInputs({ a: [1, 2], b: [1] }, IRIS, '"inputs"', 'x', true)).toThrow('"inputs".b has 1 values where "inputs".a has 2');
    expect(() => columnsToInputs({ a: [1], c: [2] }, TWO, '"inputs"', 'x', true)).toThrow(`"inputs".c is not an input of model 'two'; its inputs are 'a', 'b'`);
    expect(() => columnsToInputs({ a: [1] }, TWO, '"inputs"', 'x', true)).toThrow(`"inputs" has no 'b'`);
  });
});
