import { ModelServerError } from '../errors/model-server.error';
import { MAX_JSON_DEPTH, parseJsonLossless } from './json.parser';
import { generator } from '../../../../test/helpers/seeded-random';

/** A small deterministic generator of JSON values (no integers beyond 2^53). */
function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 6 : 8));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.floor((next() - 0.5) * 2e6);
    case 3:
      return (next() - 0.5) * 10 ** Math.floor(next() * 35 - 20);
    case 4:
      return ['', 'a', 'é', '\n"\\', '\u0001', '😀', '__proto__'][Math.floor(next() * 7)];
    case 5:
      return -0;
    case 6: {
      const list: unknown[] = [];
      for (let i = Math.floor(next() * 4); i > 0; i--) list.push(randomValue(next, depth + 1));
      return list;
    }
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--) obj['k' + Math.floor(next() * 5)] = randomValue(next, depth + 1);
      return obj;
    }
  }
}

/** `value` with bigints turned into numbers, to compare with what JSON.parse gives. */
function asJsonParseWould(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(asJsonParseWould);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: asJsonParseWould(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

function holdsInfinity(value: unknown): boolean {
  if (typeof value === 'number') return value === Infinity || value === -Infinity;
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(holdsInfinity);
}

describe('parseJsonLossless agrees with JSON.parse', () => {
  it('on valid texts', () => {
    const next = generator(1);
    for (let i = 0; i < 3000; i++) {
      const text = JSON.stringify(randomValue(next, 0), null, i % 3 === 0 ? 1 : undefined) ?? 'null';
      expect([text, parseJsonLossless(text)]).toEqual([text, JSON.parse(text)]);
    }
  });

  it('on which texts are malformed (random one-character edits)', () => {
    const next = generator(2);
    const alphabet = '{}[]":,.-+eE0123456789 \\tnulfrsa\u0000';
    for (let i = 0; i < 5000; i++) {
      const text = JSON.stringify(randomValue(next, 0)) ?? 'null';
      const at = Math.floor(next() * (text.length + 1));
      const edit = Math.floor(next() * 3);
      const ch = alphabet[Math.floor(next() * alphabet.length)];
      const mutated =
        edit === 0 ? text.slice(0, at) + text.slice(at + 1) : edit === 1 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
      let expected: unknown;
      let valid: boolean;
      let infinite = false;
      try {
        expected = JSON.parse(mutated);
        // JSON.parse reads a number beyond the largest double as Infinity; we refuse it.
        infinite = holdsInfinity(expected);
        valid = !infinite;
      } catch {
        valid = false;
      }
      let ours: unknown;
      let oursValid = true;
      try {
        ours = parseJsonLossless(mutated);
      } catch (err) {
        expect(err).toBeInstanceOf(ModelServerError);
        // A number beyond the largest double is refused where it stands, which may be before a syntax error.
        const outOfRange = /^number .+ at position \d+ is out of range for JSON numbers/;
        expect((err as Error).message).toMatch(infinite ? outOfRange : new RegExp(`^malformed JSON: .+ at position \\d+$|${outOfRange.source}`));
        oursValid = false;
      }
      if (oursValid !== valid) throw new Error(`${JSON.stringify(mutated)}: JSON.parse ${valid ? 'accepts' : 'rejects'} it, we do not`);
      if (valid) expect(asJsonParseWould(ours)).toEqual(expected);
    }
  });

  it('returns integers beyond 2^53 as bigint and the rest as numbers', () => {
    expect(parseJsonLossless('[9007199254740992,-9007199254740992,9007199254740991,123456789012345678]')).toEqual([
      9007199254740992n,
      -9007199254740992n,
      9007199254740991,
      123456789012345678n,
    ]);
  });

  it('limits nesting to MAX_JSON_DEPTH without using the stack', () => {
    expect(MAX_JSON_DEPTH).toBe(512);
    expect(() => parseJsonLossless('{"a":'.repeat(100000))).toThrow('malformed JSON: nesting deeper than 512 levels at position 2560');
  });
});
