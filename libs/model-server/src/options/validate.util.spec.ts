import { IsInt, IsOptional, Min, ValidateNested } from 'class-validator';
import { validateOrThrow, withDefaults } from './validate.util';

class Inner {
  @IsInt() @Min(1) size!: number;
}

class Outer {
  @IsOptional() @IsInt() count?: number;
  @IsOptional() @ValidateNested({ each: true }) items?: Inner[];
}

function problemsOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('validateOrThrow', () => {
  it('lists every problem in one error, with array and object paths, then the caller\'s own', () => {
    const rules = Object.assign(new Outer(), { count: 1.5, items: [Object.assign(new Inner(), { size: 2 }), Object.assign(new Inner(), { size: 0 })] });
    const message = problemsOf(() => validateOrThrow('thing', rules, ['extra: found by hand']));
    expect(message.split('\n')).toEqual([
      'invalid thing options:',
      '  - count: count must be an integer number',
      '  - items[1].size: size must not be less than 1',
      '  - extra: found by hand',
    ]);
  });

  it('passes valid options', () => {
    expect(() => validateOrThrow('thing', Object.assign(new Outer(), { count: 3 }))).not.toThrow();
  });
});

describe('withDefaults', () => {
  it('takes what is set and the default for what is not (undefined and null alike)', () => {
    const defaults = { a: 1, b: 'x', c: true };
    expect(withDefaults(defaults, { a: 5, b: undefined, c: null as never })).toEqual({ a: 5, b: 'x', c: true });
    expect(withDefaults(defaults, undefined)).toEqual(defaults);
  });

  it('keeps a set false or 0 (not a missing value)', () => {
    expect(withDefaults({ on: true, n: 7 }, { on: false, n: 0 })).toEqual({ on: false, n: 0 });
  });
});
