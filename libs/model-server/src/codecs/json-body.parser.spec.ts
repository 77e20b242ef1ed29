import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';
import { JsonValuesTooLarge } from '../errors/codec.errors';
import { DeferredTensorData } from './deferred-tensor-data';
import { JsonBodyBuilder } from './json-body.builder';
import { LARGE_JSON_BODY_BYTES, parseJsonBody } from './json-body.parser';
import { JsonBodyScanner, ROWS_SPANS, type SpanPolicy, V2_SPANS } from './json-body.scanner';
import { DEFAULT_MAX_JSON_VALUE_BYTES, JSON_VALUE_COST } from './json-limits';
import { parseJsonLossless } from './json.parser';
import { parseJson } from './lossless-json';
import { generator, pick, type Next } from '../../../../test/helpers/seeded-random';

/** Whitespace as JSON allows it between tokens, often none. */
function ws(next: Next): string {
  return next() < 0.6 ? '' : pick(next, [' ', '\n', '\t', '\r\n', '  ', ' \n\t ']);
}

function digits(next: Next, n: number): string {
  let text = String(1 + Math.floor(next() * 9));
  for (let i = 1; i < n; i++) text += String(Math.floor(next() * 10));
  return text;
}

/** A number literal of any JSON form: integers up to 20 digits, fractions, exponents, -0. */
function numberText(next: Next): string {
  const sign = next() < 0.3 ? '-' : '';
  switch (Math.floor(next() * 6)) {
    case 0:
      return sign + String(Math.floor(next() * 1000));
    case 1:
      return sign + digits(next, 1 + Math.floor(next() * 20));
    case 2:
      return sign + digits(next, 1 + Math.floor(next() * 3)) + '.' + String(Math.floor(next() * 1e6)).padStart(1 + Math.floor(next() * 8), '0');
    case 3:
      return sign + digits(next, 1 + Math.floor(next() * 17)) + pick(next, ['e', 'E']) + pick(next, ['', '+', '-']) + String(Math.floor(next() * 300));
    case 4:
      return sign + '0.' + digits(next, 1 + Math.floor(next() * 25));
    default:
      return sign + pick(next, ['0', '0.0', '1e0', '1.5e-7', '123456789012345678', '9007199254740993', '0.1', '3.4028235e38']);
  }
}

/** A string literal: ASCII, escapes of every kind (surrogate pairs, lone surrogates), raw non-ASCII text. */
function stringText(next: Next): string {
  let text = '"';
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    text += pick(next, [
      'a',
      'xyz',
      ' ',
      '\\n',
      '\\"',
      '\\\\',
      '\\/',
      '\\b\\f\\r\\t',
      '\\u00e9',
      '\\u0000',
      '\\ud83d\\ude00',
      '\\ud800',
      '\\uDC00x',
      'é',
      '😀',
      '中文',
      '__proto__',
    ]);
  }
  return text + '"';
}

const KEYS = ['"a"', '"b"', '"__proto__"', '"inputs"', '"data"', '"d\\u0061ta"', '"\\u0069nputs"', '"é"', '"name"', '"k\\n"'];

/** Any JSON value as text, formatted with random whitespace. */
function valueText(next: Next, depth: number): string {
  const kind = Math.floor(next() * (depth > 4 ? 5 : 7));
  switch (kind) {
    case 0:
      return numberText(next);
    case 1:
      return stringText(next);
    case 2:
      return pick(next, ['true', 'false', 'null']);
    case 3:
    case 4:
      return next() < 0.5 ? numberText(next) : stringText(next);
    case 5: {
      const items: string[] = [];
      for (let i = Math.floor(next() * 5); i > 0; i--) items.push(ws(next) + valueText(next, depth + 1) + ws(next));
      return '[' + (items.length === 0 ? ws(next) : items.join(',')) + ']';
    }
    default: {
      const members: string[] = [];
      for (let i = Math.floor(next() * 5); i > 0; i--) {
        members.push(ws(next) + pick(next, KEYS) + ws(next) + ':' + ws(next) + valueText(next, depth + 1) + ws(next));
      }
      return '{' + (members.length === 0 ? ws(next) : members.join(',')) + '}';
    }
  }
}

/** Tensor data: nested arrays of numbers, strings and literals (sometimes an object). */
function dataText(next: Next, depth: number): string {
  const items: string[] = [];
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    const r = next();
    const item = r < 0.2 && depth < 4 ? dataText(next, depth + 1) : r < 0.6 ? numberText(next) : r < 0.85 ? stringText(next) : r < 0.97 ? pick(next, ['true', 'false', 'null']) : '{"o":[1]}';
    items.push(ws(next) + item + ws(next));
  }
  return '[' + items.join(',') + ']';
}

/** A v2 request body: inputs whose data are arrays (keys sometimes escaped), among other members. */
function requestText(next: Next): string {
  const inputs: string[] = [];
  for (let i = 1 + Math.floor(next() * 3); i > 0; i--) {
    const members = [`"name":"x${i}"`, '"datatype":"FP32"', '"shape":[1]'];
    members.push(`${pick(next, ['"data"', '"d\\u0061ta"', '"\\u0064ata"'])}:${ws(next)}${next() < 0.9 ? dataText(next, 0) : valueText(next, 1)}`);
    if (next() < 0.3) members.push(`"parameters":${valueText(next, 2)}`);
    if (next() < 0.2) members.push(`"data":${dataText(next, 0)}`); // a repeated key: the last one counts
    members.sort(() => next() - 0.5);
    inputs.push(ws(next) + '{' + members.map((m) => ws(next) + m + ws(next)).join(',') + '}');
  }
  const root = [`${pick(next, ['"inputs"', '"\\u0069nputs"'])}:[${inputs.join(',')}]`];
  if (next() < 0.5) root.push(`"parameters":${valueText(next, 1)}`);
  if (next() < 0.5) root.push(`"id":${stringText(next)}`);
  if (next() < 0.2) root.push(`"outputs":[{"name":"y","data":${dataText(next, 0)}}]`);
  root.sort(() => next() - 0.5);
  return ws(next) + '{' + root.join(',' + ws(next)) + '}' + ws(next);
}

/** A canonical text of a parsed value: bigints, -0 and own `__proto__` keys all visible. */
function canon(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof DeferredTensorData) return `<span ${v.start}..${v.end}>`;
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (typeof v === 'object' && v !== null) {
    if (Object.getPrototypeOf(v) !== Object.prototype) return '<foreign prototype>';
    return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + canon((v as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/** The parsed value with every span replaced by the exact parse of its bytes. */
function filled(v: unknown): unknown {
  if (v instanceof DeferredTensorData) return parseJson(v.body.toString('utf8', v.start, v.end));
  if (Array.isArray(v)) return v.map(filled);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: filled((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** Both passes run by hand with a deadline already past, so they pause wherever they check the clock (no value budget). */
function parseInSteps(body: Buffer, policy: SpanPolicy): unknown {
  const scanner = new JsonBodyScanner(body, policy, Number.MAX_SAFE_INTEGER);
  while (!scanner.step(0));
  const builder = new JsonBodyBuilder(body, scanner.spans, scanner.longStrings);
  while (!builder.step(0));
  return builder.result;
}

function outcome(fn: () => unknown): string {
  try {
    return 'ok ' + canon(fn());
  } catch (err) {
    if (!(err instanceof ModelServerError)) throw err;
    expect(err.code).toBe(ErrorCode.InvalidRequest);
    return 'error ' + err.message;
  }
}

/**
 * What the exact parser makes of a text, error positions as byte offsets. It is `parseJson`'s answer, except that it
 * also refuses a bad number in a value a repeated key replaces (which `JSON.parse` drops unseen), as the large-body
 * parser does.
 */
function expectedOutcome(source: string): string {
  const text = Buffer.from(source).toString('utf8'); // what a body of these bytes reads as (no lone surrogates)
  const result = outcome(() => parseJsonLossless(text));
  return result.replace(/at position (\d+)/, (_, at: string) => `at position ${Buffer.byteLength(text.slice(0, Number(at)))}`);
}

async function outcomeAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    return 'ok ' + canon(await fn());
  } catch (err) {
    if (!(err instanceof ModelServerError)) throw err;
    expect(err.code).toBe(ErrorCode.InvalidRequest);
    return 'error ' + err.message;
  }
}

/** Padded with whitespace to the large-body size (keeps its meaning; error positions are unchanged). */
function large(text: string): Buffer {
  return Buffer.from(text + ' '.repeat(Math.max(0, LARGE_JSON_BODY_BYTES - Buffer.byteLength(text))));
}

describe('parseJsonBody', () => {
  it('parses a small body at once, exactly as parseJson does', () => {
    const text = '{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}';
    expect(parseJsonBody(Buffer.from(text))).toEqual(parseJson(text));
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow('malformed JSON: unexpected end of input at position 0');
  });

  it('gives what parseJson gives for any JSON (random corpus, whitespace everywhere, escapes, non-ASCII)', async () => {
    const next = generator(11);
    for (let i = 0; i < 1500; i++) {
      const text = ws(next) + valueText(next, 0) + ws(next);
      const expected = expectedOutcome(text);
      expect([text, outcome(() => parseInSteps(Buffer.from(text), V2_SPANS))]).toEqual([text, expected]);
      if (i % 50 === 0) expect([text, await outcomeAsync(async () => parseJsonBody(large(text)))]).toEqual([text, expected]);
    }
  });

  it('leaves inputs[i].data of a request as spans, however the keys are written, and builds the rest exactly', () => {
    const next = generator(12);
    let spans = 0;
    for (let i = 0; i < 1500; i++) {
      const text = requestText(next);
      const expected = expectedOutcome(text);
      const got = outcome(() => filled(parseInSteps(Buffer.from(text), V2_SPANS)));
      expect([text, got]).toEqual([text, expected]);
      if (got.startsWith('ok')) {
        const value = parseInSteps(Buffer.from(text), V2_SPANS) as { inputs: { data: unknown }[] };
        for (const input of value.inputs) if (input.data instanceof DeferredTensorData) spans++;
      }
    }
    expect(spans).toBeGreaterThan(1000);
  });

  it('gives the same when both passes pause at every clock check (large random bodies)', async () => {
    const next = generator(14);
    for (let i = 0; i < 4; i++) {
      const parts: string[] = [];
      while (parts.length < 800) {
        const part = ws(next) + (i % 2 === 0 ? valueText(next, 1) : requestText(next)) + ws(next);
        if (expectedOutcome(part).startsWith('ok')) parts.push(part); // no refused numbers: these bodies are to be read whole
      }
      const text = '[' + parts.join(',') + ']';
      const expected = expectedOutcome(text);
      expect(outcome(() => filled(parseInSteps(Buffer.from(text), V2_SPANS)))).toBe(expected);
      const request = `{"inputs":[${parts.filter((part) => part.trim().startsWith('{')).join(',')}],"parameters":{"all":[${parts.join(',')}]}}`;
      const value = parseInSteps(Buffer.from(request), V2_SPANS);
      expect(outcome(() => filled(value))).toBe(expectedOutcome(request));
      expect(canon(await parseJsonBody(large(request), { maxValueBytes: Number.MAX_SAFE_INTEGER }))).toBe(canon(value));
    }
  });

  it('builds long strings (escapes, non-ASCII, invalid UTF-8) in pieces, as the whole text reads', async () => {
    const next = generator(15);
    const escaped = ['abc', '\\n', '\\u00e9', '\\ud83d\\ude00', '\\ud800', 'é', '😀', '中', '\\"', ' '];
    const raw = ['abc', 'é', '😀', '中', ' ', 'xyzxyzxyz'];
    for (const pieces of [escaped, raw]) {
      const parts: Buffer[] = [Buffer.from('{"p":["x","')];
      for (let size = 0; size < 1_400_000; ) {
        // Now and then a cut sequence, a stray byte, a lone lead byte: invalid UTF-8 the body's text reads as U+FFFD.
        const part = next() < 0.0005 ? Buffer.from([0xe2, 0x82, 0x41, 0xff, 0xc3]) : Buffer.from(pieces[Math.floor(next() * pieces.length)]);
        parts.push(part);
        size += part.length;
      }
      parts.push(Buffer.from('"],"q":1}'));
      const body = Buffer.concat(parts);
      const expected = outcome(() => parseJsonLossless(body.toString('utf8')));
      expect(expected.includes('\ufffd')).toBe(true);
      expect(outcome(() => parseInSteps(body, V2_SPANS)) === expected).toBe(true);
      expect('ok ' + canon(await parseJsonBody(body)) === expected).toBe(true);
    }
  });

  it('counts the elements of a span as flattening would (objects are one element)', async () => {
    const text = '{"inputs":[{"name":"x","d\\u0061ta":[[1, "a\\"]b", [true, null]], [], {"k": [1, 2, 3]}, -0.5e3]}]}';
    const value = (await parseJsonBody(large(text))) as { inputs: { data: DeferredTensorData }[] };
    const span = value.inputs[0].data;
    expect(span).toBeInstanceOf(DeferredTensorData);
    expect([span.elements, span.strings, span.stringBytes, span.plainStrings]).toEqual([6, 1, 5, false]);
    expect(span.body.toString('utf8', span.start, span.end)).toBe('[[1, "a\\"]b", [true, null]], [], {"k": [1, 2, 3]}, -0.5e3]');
    expect(JSON.stringify(span)).toBe(`"[6 elements in ${span.byteLength} bytes of JSON, not decoded]"`);
  });

  it('leaves data alone outside a request: not under inputs, not an array, not at the root', async () => {
    const text = '{"parameters":{"inputs":[{"data":[1]}]},"inputs":[{"data":5},[{"data":[2]}],{"x":{"data":[3]}}],"data":[4]}';
    const value = await parseJsonBody(large(text));
    expect(canon(value)).toBe(canon(parseJson(text)));
  });

  it('finds the request at a body input path', async () => {
    const text = '{"inputs":[{"data":[0]}],"req":{"v2":{"inputs":[{"name":"x","data":[1,2]}]}}}';
    const value = (await parseJsonBody(large(text), { inputPath: 'req.v2' })) as { inputs: { data: unknown }[]; req: { v2: { inputs: { data: unknown }[] } } };
    expect(value.inputs[0].data).toEqual([0]);
    expect(value.req.v2.inputs[0].data).toBeInstanceOf(DeferredTensorData);
  });

  it('builds all of a values-only body (no v2 request in it) and counts all of it against maxValueBytes', async () => {
    const text = '{"model":"m","inputs":[{"name":"x","data":[1,2]}],"messages":[{"role":"user","content":"hi"}]}';
    expect(canon(await parseJsonBody(large(text), { valuesOnly: true }))).toBe(canon(parseJson(text)));
    const zeros = '[' + '0,'.repeat(DEFAULT_MAX_JSON_VALUE_BYTES / JSON_VALUE_COST.smallInteger) + '0]';
    // What a v2 request may carry as tensor data is counted in a body that is not one.
    await expect(parseJsonBody(Buffer.from(`{"inputs":[{"data":${zeros}}]}`), { valuesOnly: true })).rejects.toThrow(/maxJsonValueBytes/);
    const strings = `{"messages":[{"role":"user","content":"${'a'.repeat(8 * 1024 * 1024)}"}]}`;
    // A long string's characters are bounded by the body limit, not counted: a long prompt is read.
    expect(((await parseJsonBody(Buffer.from(strings), { valuesOnly: true })) as { messages: { content: string }[] }).messages[0].content).toHaveLength(8 * 1024 * 1024);
  });

  it('leaves rows as spans for the JSON content codec', () => {
    const rows = (text: string) => canon(parseInSteps(Buffer.from(text), ROWS_SPANS));
    expect(rows('[[1,2],[3,4]]')).toBe('<span 0..13>');
    expect(rows('{"instances":[[1]],"x":[1]}')).toBe('{"instances":<span 13..18>,"x":[1]}');
    expect(rows('{"inputs":[ [1]]}')).toBe('{"inputs":<span 10..16>}');
    expect(rows('{"inputs":[1,2]}')).toBe('{"inputs":<span 10..15>}');
    expect(rows('{"inputs":[ {"data":[1]}]}')).toBe('{"inputs":[{"data":<span 20..23>}]}');
    expect(rows('{"inputs":[]}')).toBe('{"inputs":[]}');
  });

  it('reports malformed JSON as the exact parser does, at the same position in bytes (random edits)', () => {
    const next = generator(13);
    const alphabet = '{}[]":,.-+eE0123456789 \\tnulfrsa\u0000';
    let refused = 0;
    for (let i = 0; i < 2500; i++) {
      const text = next() < 0.5 ? requestText(next) : valueText(next, 0);
      const at = Math.floor(next() * (text.length + 1));
      const ch = alphabet[Math.floor(next() * alphabet.length)];
      const edit = Math.floor(next() * 3);
      const mutated = edit === 0 ? text.slice(0, at) + text.slice(at + 1) : edit === 1 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
      const expected = expectedOutcome(mutated);
      if (expected.startsWith('error')) refused++;
      expect([mutated, outcome(() => filled(parseInSteps(Buffer.from(mutated), V2_SPANS)))]).toEqual([mutated, expected]);
    }
    expect(refused).toBeGreaterThan(600);
  });

  it('gives byte offsets as positions, and quotes the character found', async () => {
    expect(() => parseJson('{"é":[1,]}')).toThrow('malformed JSON: unexpected character "]" at position 8');
    await expect(parseJsonBody(large('{"é":[1,]}'))).rejects.toThrow('malformed JSON: unexpected character "]" at position 9');
    await expect(parseJsonBody(large('{"inputs":[{"data":[1,2 3]}]}'))).rejects.toThrow(
      "malformed JSON: expected ',' or ']' after an array element, found character \"3\" at position 24",
    );
    await expect(parseJsonBody(large('["a" é]'))).rejects.toThrow('malformed JSON: expected \',\' or \']\' after an array element, found character "é" at position 5');
    await expect(parseJsonBody(Buffer.from('[' + '1,'.repeat(40000)))).rejects.toThrow(/^malformed JSON: unexpected end of input at position 80001$/);
    const cut = '["' + 'a'.repeat(70000) + '\\';
    expect(() => parseJson(cut)).toThrow('malformed JSON: invalid escape in a string at position 70002');
    await expect(parseJsonBody(Buffer.from(cut))).rejects.toThrow('malformed JSON: invalid escape in a string at position 70002');
    await expect(parseJsonBody(Buffer.from(cut + 'u12'))).rejects.toThrow('malformed JSON: invalid \\u escape in a string at position 70002');
  });

  it('refuses nesting deeper than 512 levels, inside tensor data too', async () => {
    await expect(parseJsonBody(large('['.repeat(10000)))).rejects.toThrow('malformed JSON: nesting deeper than 512 levels at position 512');
    const deepData = '{"inputs":[{"data":' + '['.repeat(600) + ']'.repeat(600) + '}]}';
    await expect(parseJsonBody(large(deepData))).rejects.toThrow('malformed JSON: nesting deeper than 512 levels at position 528');
    expect(() => parseJson(deepData)).toThrow('malformed JSON: nesting deeper than 512 levels at position 528');
    const ok = '['.repeat(512) + ']'.repeat(512);
    expect(canon(await parseJsonBody(large(ok)))).toBe(canon(parseJson(ok)));
  });

  it('refuses 1e999, -1e400 and integers of more than 20 digits, in tensor data too', async () => {
    const bigint = jest.spyOn(globalThis, 'BigInt');
    try {
      for (const [text, message] of [
        ['{"inputs":[{"data":[1, 1e999]}]}', 'number 1e999 at position 23 is out of range for JSON numbers (magnitude at most 1.7976931348623157e+308)'],
        ['{"p":-1e400}', 'number -1e400 at position 5 is out of range for JSON numbers (magnitude at most 1.7976931348623157e+308)'],
        ['[123456789012345678901]', 'integer 123456789012345678901 at position 1 has 21 digits; JSON integers may have at most 20 (the 64-bit range)'],
        ['{"inputs":[{"data":[-999999999999999999999]}]}', 'integer -999999999999999999999 at position 20 has 21 digits; JSON integers may have at most 20 (the 64-bit range)'],
      ]) {
        expect(outcome(() => parseJson(text))).toBe('error ' + message);
        await expect(parseJsonBody(large(text))).rejects.toThrow(message);
      }
      expect(bigint).not.toHaveBeenCalled();
    } finally {
      bigint.mockRestore();
    }
  });

  it('refuses a number literal of millions of digits after reading 65536 of them', async () => {
    const bigint = jest.spyOn(globalThis, 'BigInt');
    try {
      for (const literal of ['7'.repeat(8_000_000), '1.' + '0'.repeat(8_000_000), '1e' + '0'.repeat(8_000_000)]) {
        await expect(parseJsonBody(Buffer.from(`{"inputs":[{"data":[${literal}]}]}`))).rejects.toThrow(
          'the number at position 20 is longer than 65536 characters, the most a JSON number may have',
        );
      }
      expect(bigint).not.toHaveBeenCalled();
    } finally {
      bigint.mockRestore();
    }
  });

  it('estimates the heap of the values outside tensor data: each kind at its cost, string characters and tensor data not counted', async () => {
    const cost = async (text: string): Promise<number> => {
      const scanner = new JsonBodyScanner(Buffer.from(text), V2_SPANS);
      while (!scanner.step(Infinity));
      return scanner.cost;
    };
    const c = JSON_VALUE_COST;
    expect(await cost('{"a":[1,-12345678,2.5,1e3,1234567890,12345678901234567890,"x","' + 'y'.repeat(1000) + '",true,null,{},[]]}')).toBe(
      c.object + c.key + c.array + 2 * c.smallInteger + 3 * c.number + c.bigint + 2 * c.string + 2 * c.literal + c.object + c.array,
    );
    const request = '{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,2,3]}]}';
    expect(await cost(request)).toBe(c.object + c.key + c.array + c.object + 4 * c.key + 2 * c.string + c.array + c.smallInteger);
    expect(await cost(request.replace('[1,2,3]', '[' + '{},'.repeat(1000) + '[[0.5]]]'))).toBe(await cost(request));
  });

  it(`refuses a large body whose values outside tensor data pass ${DEFAULT_MAX_JSON_VALUE_BYTES} bytes (maxJsonValueBytes) before building any`, async () => {
    const build = jest.spyOn(JsonBodyBuilder.prototype, 'step');
    try {
      const objects = '[' + '{},'.repeat(DEFAULT_MAX_JSON_VALUE_BYTES / JSON_VALUE_COST.object) + '{}]';
      const refusal = `the JSON values outside tensor data would take more than ${DEFAULT_MAX_JSON_VALUE_BYTES} bytes of memory (maxJsonValueBytes)`;
      for (const text of [objects, `{"parameters":{"p":${objects}},"inputs":[{"data":[1]}]}`, `{"inputs":[{"name":"x","data":[1],"parameters":{"p":${objects}}}]}`]) {
        await expect(parseJsonBody(Buffer.from(text))).rejects.toThrow(refusal);
      }
      const zeros = '[' + '0,'.repeat(DEFAULT_MAX_JSON_VALUE_BYTES / JSON_VALUE_COST.smallInteger) + '0]';
      await expect(parseJsonBody(Buffer.from(`{"parameters":{"p":${zeros}}}`))).rejects.toThrow(refusal);
      expect(build).not.toHaveBeenCalled();
      // The same values as tensor data are fine.
      const data = (await parseJsonBody(Buffer.from(`{"inputs":[{"data":${zeros}}]}`))) as { inputs: { data: DeferredTensorData }[] };
      expect(data.inputs[0].data.elements).toBe(DEFAULT_MAX_JSON_VALUE_BYTES / JSON_VALUE_COST.smallInteger + 1);
      // The limit is the caller's: a server's maxJsonValueBytes, raised with maxInputs and maxOutputs.
      const wider = (await parseJsonBody(Buffer.from(`{"parameters":{"p":${objects}}}`), { maxValueBytes: 2 * DEFAULT_MAX_JSON_VALUE_BYTES })) as { parameters: { p: object[] } };
      expect(wider.parameters.p).toHaveLength(DEFAULT_MAX_JSON_VALUE_BYTES / JSON_VALUE_COST.object + 1);
      await expect(parseJsonBody(Buffer.from(`{"parameters":{"p":${'[' + '0,'.repeat(40000) + '0]'}}}`), { maxValueBytes: 100000 })).rejects.toThrow(
        'the JSON values outside tensor data would take more than 100000 bytes of memory (maxJsonValueBytes)',
      );
      // The refusal says how many tensors and requested outputs it had seen: a transport names maxInputs / maxOutputs when those are over.
      const wide = JSON.stringify({ inputs: Array.from({ length: 3000 }, (_, i) => ({ name: `x${i}`, data: [1] })), outputs: [{ name: 'y' }] });
      const seen = await (parseJsonBody(Buffer.from(wide), { maxValueBytes: 1_000_000 }) as Promise<unknown>).catch((err: unknown) => err);
      expect(seen).toBeInstanceOf(JsonValuesTooLarge);
      expect((seen as JsonValuesTooLarge).inputs).toBeGreaterThan(1000);
      expect((seen as JsonValuesTooLarge).inputs).toBeLessThan(3000);
      const outputs = JSON.stringify({ outputs: Array.from({ length: 6000 }, (_, i) => ({ name: `y${i}` })), inputs: [] });
      const seenOutputs = (await (parseJsonBody(Buffer.from(outputs), { maxValueBytes: 1_000_000 }) as Promise<unknown>).catch((err: unknown) => err)) as JsonValuesTooLarge;
      expect([seenOutputs.inputs, seenOutputs.outputs > 1000]).toEqual([0, true]);
    } finally {
      build.mockRestore();
    }
  });

  it('builds each array outside tensor data exactly as long as its elements, however deep', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? [i, [i + 0.5, { k: [] }], 'r'] : i % 3 === 1 ? [] : [[[i]]]));
    const body = JSON.stringify({ inputs: rows, parameters: { nested: rows.slice(0, 50) } });
    expect(body.length).toBeGreaterThanOrEqual(LARGE_JSON_BODY_BYTES);
    const value = (await parseJsonBody(Buffer.from(body))) as { inputs: unknown[] };
    expect(value).toEqual(JSON.parse(body));
    expect(value.inputs).toHaveLength(5000);
  });

  it('builds a 64 MiB string value in slices, the event loop served between them', async () => {
    const size = 64 * 1024 * 1024;
    const body = Buffer.alloc(size + 32, 0x61);
    body.write('{"parameters":{"p":"', 0);
    body.write('\\n"}}', size + 27);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const value = (await parseJsonBody(body)) as { parameters: { p: string } };
      expect(value.parameters.p.length).toBe(size + 27 - 20 + 1);
      expect(value.parameters.p.endsWith('aa\n')).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(2);
  });

  it('refuses keys longer than 64 KiB', async () => {
    await expect(parseJsonBody(Buffer.from(`{"${'k'.repeat(70000)}":1}`))).rejects.toThrow(
      'the key at position 1 is longer than 65536 bytes, the most a JSON key may have',
    );
  });

  it('keeps __proto__ an own property in a large body', async () => {
    const value = (await parseJsonBody(large('{"__proto__":{"polluted":1},"inputs":[{"__proto__":{"data":[1]}}]}'))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: 1 });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
