import { ErrorCode } from '../errors/error-code.enum';
import { parseJson, stringifyJson } from './lossless-json';
import { errorOf } from '../../../../test/helpers/error-of';

function malformedNumber(text: string): string {
  const err = errorOf(() => parseJson(text));
  expect(err.code).toBe(ErrorCode.InvalidRequest);
  return err.message;
}

function malformed(text: string): string {
  const err = errorOf(() => parseJson(text));
  expect(err.code).toBe(ErrorCode.InvalidRequest);
  return err.message;
}

describe('parseJson', () => {
  it('keeps integers beyond 2^53 exact as bigint', () => {
    // Short texts: a run of 16 digits anywhere sends the text to the exact parser.
    expect(parseJson('[-18446744073709551615,"e",1e1]')).toEqual([-18446744073709551615n, 'e', 10]);
    expect(parseJson('[1234567890123456,1e-5]')).toEqual([1234567890123456, 1e-5]);
    expect(parseJson('[-9223372036854775808,9223372036854775807,18446744073709551615,0]')).toEqual([
      -9223372036854775808n,
      9223372036854775807n,
      18446744073709551615n,
      0,
    ]);
    expect(parseJson('{"a":9007199254740993}')).toEqual({ a: 9007199254740993n });
  });

  it('returns safe integers, fractions and exponents as numbers, like JSON.parse', () => {
    const text = '[9007199254740991,-9007199254740991,1234567890123456.5,1.2345678901234567e300,0.10000000000000000555,-0]';
    const value = parseJson(text) as unknown[];
    expect(value).toEqual(JSON.parse(text));
    expect(typeof value[0]).toBe('number');
    expect(Object.is(value[5], -0)).toBe(true);
  });

  it('keeps large non-integer literals as numbers even when the exact parser runs', () => {
    const text = '[1e20,12345678901234567890.5,-1.5e300,123456789012345,-123456789012345]';
    expect(parseJson(text)).toEqual(JSON.parse(text));
    expect(parseJson('{"a":[1e20],"b":18446744073709551615}')).toEqual({ a: [1e20], b: 18446744073709551615n });
  });

  it('gives the same values as JSON.parse for everything else', () => {
    const text =
      '{"s":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00","n":null,"t":true,"f":false,' +
      '"e":[],"o":{},"nested":[[1,[2,{"k":[3]}]]],"big":12345678901234567, "x" : 1e5 }';
    const value = parseJson(text) as Record<string, unknown>;
    expect(value.big).toBe(12345678901234567n);
    delete value.big;
    const expected = JSON.parse(text) as Record<string, unknown>;
    delete expected.big;
    expect(value).toEqual(expected);
    expect(value.s).toBe('a"b\\c/d\b\f\n\r\té😀');
  });

  it('turns __proto__ keys into own properties, never the prototype (both paths)', () => {
    for (const text of ['{"__proto__":{"x":1}}', '{"__proto__":{"x":1},"n":12345678901234567890}']) {
      const value = parseJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ x: 1 });
      expect((value as { x?: unknown }).x).toBeUndefined();
      expect(({} as { x?: unknown }).x).toBeUndefined();
    }
  });

  it('reports malformed JSON with a position in both paths', () => {
    expect(malformed('{"a":}')).toBe('malformed JSON: unexpected character "}" at position 5');
    expect(malformed('{"a":12345678901234567,}')).toBe('malformed JSON: expected a string key, found character "}" at position 23');
    expect(malformed('[1,2')).toBe("malformed JSON: expected ',' or ']' after an array element, found end of input at position 4");
    expect(malformed('')).toBe('malformed JSON: unexpected end of input at position 0');
    expect(malformed('[1] x')).toBe('malformed JSON: unexpected character "x" after the JSON value at position 4');
    expect(malformed('{"a" 1}')).toBe("malformed JSON: expected ':' after a key, found character \"1\" at position 5");
    expect(malformed('[01]')).toMatch(/^malformed JSON: expected ',' or '\]' after an array element, found character "1" at position 2$/);
    expect(malformed('[1.]')).toBe('malformed JSON: invalid number: digits must follow the decimal point at position 3');
    expect(malformed('["a\\x"]')).toBe('malformed JSON: invalid escape in a string at position 3');
    expect(malformed('["a\nb"]')).toBe('malformed JSON: unescaped control character in a string at position 3');
    expect(malformed('["abc')).toBe('malformed JSON: unterminated string at position 1');
    expect(malformed('[tru]')).toBe('malformed JSON: unexpected character "t" at position 1');
    expect(malformed('[NaN]')).toBe('malformed JSON: unexpected character "N" at position 1');
  });

  it('refuses numbers beyond the largest double instead of reading them as Infinity (both paths)', () => {
    for (const [text, literal, at] of [
      ['{"a":1e999}', '1e999', 5],
      ['[-1e400]', '-1e400', 1],
      ['[1.5E+309]', '1.5E+309', 1],
      ['[2E999]', '2E999', 1],
      ['{"e":[3e-0,7e+999]}', '7e+999', 11],
      [`{"pad":"${'x'.repeat(2000)}","v":[2e308]}`, '2e308', 2015],
      [`[${'9'.repeat(400)}.5]`, `${'9'.repeat(40)}… (402 characters)`, 1],
    ] as const) {
      const err = errorOf(() => parseJson(text));
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toBe(`number ${literal} at position ${at} is out of range for JSON numbers (magnitude at most 1.7976931348623157e+308)`);
    }
    // The largest double and underflow to zero stay what JSON.parse gives.
    expect(parseJson('[1.7976931348623157e308,1e-400,-0e999]')).toEqual([1.7976931348623157e308, 0, -0]);
  });

  it('refuses integer literals of more than 20 digits without converting them', () => {
    const bigint = jest.spyOn(globalThis, 'BigInt');
    try {
      expect(malformedNumber('[123456789012345678901]')).toBe(
        'integer 123456789012345678901 at position 1 has 21 digits; JSON integers may have at most 20 (the 64-bit range)',
      );
      const huge = `{"a":-${'7'.repeat(8_000_000)}}`;
      expect(malformedNumber(huge)).toBe(
        `integer -${'7'.repeat(39)}… (8000001 characters) at position 5 has 8000000 digits; JSON integers may have at most 20 (the 64-bit range)`,
      );
      expect(bigint).not.toHaveBeenCalled();
    } finally {
      bigint.mockRestore();
    }
    // 20 digits is the 64-bit range: still exact.
    expect(parseJson('[18446744073709551615,-99999999999999999999]')).toEqual([18446744073709551615n, -99999999999999999999n]);
  });

  it('answers 10000 levels of nesting with a 400, not a crash (both paths)', () => {
    const deep = '['.repeat(10000) + ']'.repeat(10000);
    expect(malformed(deep)).toBe('malformed JSON: nesting deeper than 512 levels at position 512');
    const deepBig = '{"a":'.repeat(10000) + '12345678901234567890' + '}'.repeat(10000);
    expect(malformed(deepBig)).toBe('malformed JSON: nesting deeper than 512 levels at position 2560');
  });

  it('accepts nesting up to 512 levels', () => {
    const ok = '['.repeat(512) + '1' + ']'.repeat(512);
    let value = parseJson(ok);
    for (let i = 0; i < 512; i++) value = (value as unknown[])[0];
    expect(value).toBe(1);
    expect(malformed('['.repeat(513) + ']'.repeat(513))).toMatch(/nesting deeper than 512 levels at position 512$/);
  });
});

describe('stringifyJson', () => {
  it('writes bigints as bare integers', () => {
    expect(stringifyJson({ seed: 18446744073709551615n, list: [-9223372036854775808n, 1], s: 'x' })).toBe(
      '{"seed":18446744073709551615,"list":[-9223372036854775808,1],"s":"x"}',
    );
  });

  it('is JSON.stringify otherwise', () => {
    expect(stringifyJson({ a: [1, 'b', null, true], u: undefined })).toBe('{"a":[1,"b",null,true]}');
    expect(stringifyJson('\u0000bigint-:1')).toBe(JSON.stringify('\u0000bigint-:1'));
    expect(stringifyJson(undefined)).toBe('null');
  });

  it('round-trips with parseJson', () => {
    const value = { a: 2n ** 64n - 1n, b: [-(2n ** 63n)], c: 0.1 };
    expect(parseJson(stringifyJson(value))).toEqual(value);
  });

  it('still refuses cycles', () => {
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    expect(() => stringifyJson(cyclic)).toThrow(TypeError);
  });
});
