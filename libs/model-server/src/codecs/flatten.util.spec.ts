import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';
import { flattenValues, MAX_DATA_NESTING } from './flatten.util';
import { clientError } from '../errors';

describe('flattenValues', () => {
  it('returns flat data as is', () => {
    const flat = [1, 2, 3];
    expect(flattenValues(flat, false, "input 'x'", clientError)).toBe(flat);
  });

  it('flattens row-major, including typed arrays inside plain arrays', () => {
    expect(flattenValues([1, [2, [3, 4]], [], [[5]]], false, "input 'x'", clientError)).toEqual([1, 2, 3, 4, 5]);
    expect(flattenValues([new Int8Array([1, 2]), [3]], false, "input 'x'", clientError)).toEqual([1, 2, 3]);
  });

  it('keeps byte arrays whole when they are BYTES elements', () => {
    const a = Buffer.from('a');
    const b = new Uint8Array([2]);
    expect(flattenValues([[a], [b]], true, "input 'x'", clientError)).toEqual([a, b]);
    expect(flattenValues([[a]], false, "input 'x'", clientError)).toEqual([0x61]);
  });

  it('walks deep nesting without recursion and stops at the limit', () => {
    let deep: unknown = [7];
    for (let i = 1; i < MAX_DATA_NESTING; i++) deep = [deep];
    expect(flattenValues(deep as unknown[], false, "input 'x'", clientError)).toEqual([7]);
    let err: unknown;
    try {
      flattenValues([deep], false, "input 'x'", clientError);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelServerError);
    expect((err as ModelServerError).code).toBe(ErrorCode.InvalidRequest);
    expect((err as ModelServerError).message).toBe(
      "input 'x': data nests deeper than 1024 levels; send it flat or nested by the shape",
    );
  });

  it('stops on a cycle instead of looping forever', () => {
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    expect(() => flattenValues(cyclic, false, "output 'y'", clientError)).toThrow(/nests deeper than 1024 levels/);
  });
});
