import { ErrorCode } from '../errors/error-code.enum';
import { elementCount } from './element-count.util';
import { errorOf } from '../../../../test/helpers/error-of';

describe('elementCount', () => {
  it('multiplies the dimensions', () => {
    expect(elementCount([2, 3], "input 'x'")).toBe(6);
    expect(elementCount([4], "input 'x'")).toBe(4);
    expect(elementCount([2, 3, 4], "input 'x'")).toBe(24);
  });

  it('treats [] as a scalar and any 0 dimension as empty', () => {
    expect(elementCount([], "input 'x'")).toBe(1);
    expect(elementCount([0], "input 'x'")).toBe(0);
    expect(elementCount([3, 0], "input 'x'")).toBe(0);
    expect(elementCount([0, 2 ** 40, 2 ** 40], "input 'x'")).toBe(0);
  });

  it('accepts exactly 2^32 elements', () => {
    expect(elementCount([65536, 65536], "input 'x'")).toBe(2 ** 32);
  });

  it('rejects a product beyond 2^32 with a 400 that says the shape is too large', () => {
    const err = errorOf(() => elementCount([65536, 65537], "input 'x'"));
    expect(err.code).toBe(ErrorCode.InvalidRequest);
    expect(err.message).toBe("input 'x': shape [65536,65537] is too large; a tensor may hold at most 2^32 (4294967296) elements");
  });

  it('rejects negative, fractional, unsafe and non-number dimensions', () => {
    const negative = errorOf(() => elementCount([2, -1], "input 'x'"));
    expect(negative.code).toBe(ErrorCode.InvalidRequest);
    expect(negative.message).toBe("input 'x': shape [2,-1] has -1 at index 1; dimensions must be non-negative integers");
    expect(errorOf(() => elementCount([1.5], "input 'x'")).message).toContain('has 1.5 at index 0');
    expect(errorOf(() => elementCount([2 ** 53], "input 'x'")).message).toContain('at index 0');
    expect(errorOf(() => elementCount(['2'] as unknown as number[], "input 'x'")).message).toContain('has "2" at index 0');
    expect(errorOf(() => elementCount(null as unknown as number[], "input 'x'")).message).toBe(
      "input 'x': shape must be an array of non-negative integers, got null",
    );
  });
});
