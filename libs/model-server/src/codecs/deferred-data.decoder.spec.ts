import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';
import { ByteStrings } from '../model/byte-strings';
import { DATATYPES, type Datatype } from '../model/datatype';
import { decodeDeferredData, hasDeferredData } from './deferred-data.decoder';
import { DeferredTensorData } from './deferred-tensor-data';
import { parseLargeJsonBody } from './json-body.parser';
import { V2_SPANS } from './json-body.scanner';
import { BytesSpanDecoder } from './json-bytes.decoder';
import { NumericSpanDecoder } from './json-numeric.decoder';
import { parseJson } from './lossless-json';
import { TensorBudget } from './tensor-budget';
import { decodeTensor } from './tensor.decoder';
import { checkInferenceRequest } from './v2-json/v2-request.schema';
import type { WireInferenceRequest } from './wire-tensor.interface';
import { clientError } from '../errors';
import { generator, pick, type Next } from '../../../../test/helpers/seeded-random';

function ws(next: Next): string {
  return next() < 0.7 ? '' : pick(next, [' ', '\n', '\t', '\r\n ']);
}

const RANGES: Partial<Record<Datatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

function randomBig(next: Next, min: bigint, max: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 5; i++) r = (r << 16n) | BigInt(Math.floor(next() * 65536));
  return min + (r % (max - min + 1n));
}

/** An integer written in one of the forms JSON allows for it (`5`, `5.0`, `5e0`, `50e-1`, `0.5e1`). */
function integerForms(next: Next, v: number): string {
  const form = Math.floor(next() * 6);
  if (form === 1) return `${v}.0`;
  if (form === 2) return `${v}e0`;
  if (form === 3 && Math.abs(v) < 1e14) return `${v * 10}e-1`;
  if (form === 4 && v === 0) return pick(next, ['-0', '0.0', '-0.0e5', '0e-3']);
  return String(v);
}

/** A float literal of any form (fractions, exponents, long mantissas, integers beyond 2^53). */
function floatText(next: Next, maxExponent: number): string {
  const sign = next() < 0.4 ? '-' : '';
  switch (Math.floor(next() * 6)) {
    case 0:
      return sign + (next() * 100).toFixed(Math.floor(next() * 8));
    case 1:
      return sign + String(next()); // 16-17 significant digits: read by Number()
    case 2:
      return sign + (1 + Math.floor(next() * 9)) + '.' + Math.floor(next() * 1e6) + 'e' + (Math.floor(next() * 2 * maxExponent) - maxExponent);
    case 3:
      return sign + pick(next, ['12345678901234567890', '9007199254740993', '18446744073709551615', '99999999999999999999']);
    case 4:
      return sign + pick(next, ['0', '0.0', '1e-45', '1.401298464324817e-45', '5e-324', '65504', '65519.99', '3.4028234e38', '0.1', '1e0']);
    default:
      return sign + String(Math.floor(next() * 1e6));
  }
}

/** A string literal: ASCII, every kind of escape, raw non-ASCII text. */
function stringText(next: Next): string {
  let text = '"';
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    text += pick(next, ['a', 'hello', ' ', '\\n', '\\"', '\\\\', '\\/', '\\b\\f\\r\\t', '\\u00e9', '\\u0000', '\\ud83d\\ude00', '\\ud800', '\\uDC00x', '\\u20AC', 'é', '😀', '中文']);
  }
  return text + '"';
}

/** A valid element of `dt` in JSON. */
function validElement(next: Next, dt: Datatype): string {
  switch (dt) {
    case 'BOOL':
      return pick(next, ['true', 'false', '0', '1', '1.0', '0.0', '-0', '1e0', '10e-1', '0e5']);
    case 'INT64':
      return next() < 0.7 ? String(randomBig(next, -(2n ** 63n), 2n ** 63n - 1n)) : pick(next, ['-9223372036854775808', '9223372036854775807', '9007199254740993', '-9007199254740992', '123.0', '1e3', '-0', '4503599627370496.0']);
    case 'UINT64':
      return next() < 0.7 ? String(randomBig(next, 0n, 2n ** 64n - 1n)) : pick(next, ['18446744073709551615', '0', '-0', '9007199254740993', '77.0', '2e15']);
    case 'FP16':
    case 'BF16':
    case 'FP32':
    case 'FP64': {
      const limit = dt === 'FP16' ? 65504 : dt === 'BF16' ? 3.38e38 : dt === 'FP32' ? 3.4e38 : Infinity;
      for (;;) {
        const text = floatText(next, dt === 'FP16' ? 5 : dt === 'FP64' ? 308 : 38);
        if (Math.abs(Number(text)) <= limit) return text;
      }
    }
    case 'BYTES':
      return stringText(next);
    default: {
      const [min, max] = RANGES[dt]!;
      return integerForms(next, min + Math.floor(next() * (max - min + 1)));
    }
  }
}

/** An element `dt` refuses (and the converter has a message for). */
function badElement(next: Next, dt: Datatype): string {
  const common = ['null', '{"a":[1]}', '{}'];
  switch (dt) {
    case 'BOOL':
      return pick(next, [...common, '2', '0.5', '-1', '"true"', '1e20', '123456789012345678901'.slice(0, 20)]);
    case 'INT64':
      return pick(next, [...common, '9223372036854775808', '-9223372036854775809', '1e19', '1.5', '9007199254740993.0', '1e16', 'true', '"5"', '99999999999999999999']);
    case 'UINT64':
      return pick(next, [...common, '-1', '18446744073709551616', '-1.0', '0.5', '1e20', 'false', '"x"']);
    case 'FP16':
      return pick(next, [...common, '65520', '-1e5', '1e38', 'true', '"1.5"', `"${'long text '.repeat(10)}"`]);
    case 'BF16':
      return pick(next, [...common, '3.4e38', '-1e39', 'false', '"0"']);
    case 'FP32':
      return pick(next, [...common, '3.5e38', '-1e39', '99999999999999999999e30', 'true', `"\\u00e9${'\\u20ac'.repeat(60)}"`]);
    case 'FP64':
      return pick(next, [...common, 'true', '"1"', '"😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"']);
    case 'BYTES':
      return pick(next, [...common, '1', '-0.5', 'true', 'false', '12345678901234567890']);
    default: {
      const [min, max] = RANGES[dt]!;
      return pick(next, [...common, String(max + 1), String(min - 1), '1.5', '-0.25', '1e10', '123456789012345678', 'true', '"3"']);
    }
  }
}

/** Elements laid out flat or nested at random, with whitespace between tokens. */
function layout(next: Next, elements: readonly string[]): string {
  const nested = next() < 0.4;
  const parts: string[] = ['['];
  let depth = 0;
  for (let i = 0; i < elements.length; i++) {
    if (i > 0) parts.push(',' + ws(next));
    if (nested && next() < 0.3 && depth < 6) {
      const open = 1 + Math.floor(next() * 2);
      parts.push('['.repeat(open) + ws(next));
      depth += open;
    }
    parts.push(elements[i]);
    if (nested && depth > 0 && next() < 0.3) {
      const close = 1 + Math.floor(next() * depth);
      parts.push(']'.repeat(close));
      depth -= close;
      if (next() < 0.2) parts.push(',[]');
    }
  }
  parts.push(']'.repeat(depth) + ']');
  return parts.join('');
}

function factor(next: Next, n: number): number[] {
  if (n === 0 || next() < 0.5) return [n];
  for (const d of [2, 3, 4, 5]) if (n % d === 0 && next() < 0.7) return [n / d, d];
  return [1, n];
}

function requestText(dt: string, shape: readonly number[], data: string): string {
  return `{"inputs":[{"name":"x","datatype":"${dt}","shape":[${shape.join(',')}],"data":${data}}]}`;
}

/** What decodeTensor makes of the body parsed whole, as today: a comparable text of the data, or the error. */
function today(text: string): string {
  try {
    const wire = checkInferenceRequest(parseJson(text));
    return show(decodeTensor(wire.inputs[0], "input 'x'").data);
  } catch (err) {
    return errorText(err);
  }
}

/** The same through the large-body path: spans, then decodeDeferredData (then decodeTensor, unless BYTES). */
async function deferred(text: string | Buffer, budget = new TensorBudget(1 << 30)): Promise<string> {
  try {
    const wire = checkInferenceRequest(await parseLargeJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text), V2_SPANS));
    await decodeDeferredData(wire, budget);
    const data: unknown = wire.inputs[0].data;
    return show(data instanceof ByteStrings ? data : decodeTensor(wire.inputs[0], "input 'x'").data);
  } catch (err) {
    return errorText(err);
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof ModelServerError)) throw err;
  return `error ${err.code} ${err.message}`;
}

/** Data as comparable text: its container's class and every element (floats by their bits, -0 included). */
function show(data: unknown): string {
  if (data instanceof ByteStrings) return 'Buffer[] ' + data.toArray().map((b) => b.toString('hex')).join(',');
  if (Array.isArray(data)) return 'Buffer[] ' + data.map((b: Buffer) => b.toString('hex')).join(',');
  const typed = data as ArrayBufferView & ArrayLike<unknown>;
  const name = typed.constructor.name;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const bits = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    return `${name} ${Buffer.from(bits).toString('hex')}`;
  }
  return `${name} ${Array.from(typed, String).join(',')}`;
}

describe('decodeDeferredData', () => {
  it.each(DATATYPES.map((dt) => [dt]))('gives what decodeTensor gives today for %s (random values, flat and nested)', async (dt) => {
    const next = generator(dt.length * 7919 + dt.charCodeAt(0));
    for (let trial = 0; trial < 150; trial++) {
      const n = trial % 25 === 0 ? 3000 + Math.floor(next() * 3000) : Math.floor(next() * 30);
      const elements: string[] = [];
      for (let i = 0; i < n; i++) elements.push(validElement(next, dt));
      const text = requestText(next() < 0.2 ? dt.toLowerCase() : dt, factor(next, n), layout(next, elements));
      const expected = today(text);
      expect([text.slice(0, 300), expected.startsWith('error') ? expected : 'ok']).toEqual([text.slice(0, 300), 'ok']);
      expect(await deferred(text)).toBe(expected);
    }
  });

  it.each(DATATYPES.map((dt) => [dt]))('refuses a bad %s value with the same message, at the same index', async (dt) => {
    const next = generator(dt.length * 104729 + dt.charCodeAt(1));
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + Math.floor(next() * 40);
      const elements: string[] = [];
      for (let i = 0; i < n; i++) elements.push(validElement(next, dt));
      elements[Math.floor(next() * n)] = badElement(next, dt);
      if (next() < 0.3) elements[Math.floor(next() * n)] = badElement(next, dt);
      const text = requestText(dt, [n], layout(next, elements));
      const expected = today(text);
      expect(expected).toMatch(/^error INVALID_REQUEST input 'x': value .+ at index \d+/);
      expect(await deferred(text)).toBe(expected);
    }
  });

  it('refuses a count that is not the shape\'s before looking at the values', async () => {
    for (const [shape, data] of [
      [[3], '[1,2]'],
      [[2, 2], '[[1,2],[3]]'],
      [[1], '[[],[true,"x"]]'],
      [[0], '[null]'],
      [[], '[1,2]'],
    ] as const) {
      const text = requestText('INT8', shape, data);
      expect(today(text)).toMatch(/^error INVALID_REQUEST input 'x': shape \[.*\] needs \d+ elements, got \d+$/);
      expect(await deferred(text)).toBe(today(text));
    }
    expect(await deferred(requestText('FP32', [2], '[]'))).toBe("error INVALID_REQUEST input 'x': shape [2] needs 2 elements, got 0");
  });

  it('refuses a bad datatype or shape as decodeTensor does', async () => {
    for (const text of [requestText('FLOAT', [1], '[1]'), requestText('Fp32', [1], '[1]'), '{"inputs":[{"name":"x","datatype":"FP32","shape":[-1],"data":[1]}]}']) {
      expect(await deferred(text)).toBe(today(text));
    }
  });

  it('decodes BYTES into one ByteStrings: escapes straight into bytes, invalid UTF-8 as U+FFFD, as today', async () => {
    const head = Buffer.from('{"inputs":[{"name":"x","datatype":"BYTES","shape":[4],"data":["a\\u00e9\\ud83d\\ude00\\ud800",  "');
    const invalid = Buffer.from([0xe2, 0x82, 0x41, 0xff, 0xc3, 0xa9, 0xed, 0xa0, 0x80]);
    const body = Buffer.concat([head, invalid, Buffer.from('", "", "\\"\\\\/\\b\\f\\n\\r\\t"]}]}')]);
    const expected = today(body.toString('utf8'));
    expect(expected).toContain('efbfbd');
    expect(await deferred(body)).toBe(expected);
    const wire = checkInferenceRequest(await parseLargeJsonBody(body, V2_SPANS));
    await decodeDeferredData(wire, new TensorBudget(1 << 20));
    const data = wire.inputs[0].data as unknown as ByteStrings;
    expect(data).toBeInstanceOf(ByteStrings);
    expect(data.text(0)).toBe('aé😀\ufffd');
  });

  it('takes each tensor\'s decoded size from the budget before allocating (413 naming maxTensorBytes)', async () => {
    const cases: [string, string, number][] = [
      ['FP32', '[1,2,3]', 12],
      ['FP16', '[1,2,3]', 12], // held widened: 4 bytes each
      ['INT64', '[1,2,3]', 24],
      ['BOOL', '[true,false,1]', 3],
      ['BYTES', '["ab","\\u00e9",""]', 4 + 12], // 4 bytes of text, 4 per element
      ['BYTES', '["ab","c",""]', 3 + 12],
    ];
    for (const [dt, data, bytes] of cases) {
      const text = requestText(dt, [3], data);
      expect(await deferred(text, new TensorBudget(bytes))).not.toMatch(/^error/);
      const budget = new TensorBudget(bytes - 1);
      expect(await deferred(text, budget)).toBe(
        `error PAYLOAD_TOO_LARGE input 'x' would take ${bytes} bytes decoded, over what is left of the request's ${bytes - 1}-byte budget for tensors (maxTensorBytes)`,
      );
      expect(budget.remaining).toBe(bytes - 1);
    }
  });

  it('shares the budget among the inputs of a request', async () => {
    const text = '{"inputs":[{"name":"a","datatype":"FP64","shape":[2],"data":[1,2]},{"name":"b","datatype":"INT32","shape":[2],"data":[3,4]}]}';
    const budget = new TensorBudget(20);
    expect(await deferred(text, budget)).toBe(`error PAYLOAD_TOO_LARGE input 'b' would take 8 bytes decoded, over what is left of the request's 20-byte budget for tensors (maxTensorBytes)`);
  });

  it('is synchronous when nothing is deferred, and leaves other inputs alone', async () => {
    const plain = checkInferenceRequest(parseJson(requestText('FP32', [2], '[1,2]')));
    expect(hasDeferredData(plain)).toBe(false);
    expect(decodeDeferredData(plain, new TensorBudget(0))).toBeUndefined();
    const text =
      '{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":5},{"name":"b","datatype":"FP32","shape":[1],"data":[5]},' +
      '{"name":"b","datatype":"INT8","shape":[1],"data":[1]},{"name":"c","datatype":"INT8","shape":[1],"data":[1],"raw":"x"}]}';
    const wire = checkInferenceRequest(await parseLargeJsonBody(Buffer.from(text), V2_SPANS)) as WireInferenceRequest;
    expect(hasDeferredData(wire)).toBe(true);
    const pending = decodeDeferredData(wire, new TensorBudget(1 << 20));
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(wire.inputs[0].data).toBe(5);
    expect(wire.inputs[1].data).toEqual(Float32Array.from([5]));
    // A repeated name and an input with binary data too are left for decodeTensor to refuse.
    expect(wire.inputs[2].data).toBeInstanceOf(DeferredTensorData);
    expect(wire.inputs[3].data).toBeInstanceOf(DeferredTensorData);
  });

  it('gives the same when the decoders pause at every clock check', async () => {
    const next = generator(99);
    for (const dt of DATATYPES) {
      const elements: string[] = [];
      for (let i = 0; i < 20000; i++) elements.push(validElement(next, dt));
      if (dt === 'BYTES') elements.push(`"${'é\\n😀'.repeat(700_000)}"`); // one string over a piece
      const n = elements.length;
      const text = requestText(dt, [n], layout(next, elements));
      const expected = await deferred(text);
      const wire = checkInferenceRequest(await parseLargeJsonBody(Buffer.from(text), V2_SPANS));
      const span = wire.inputs[0].data as DeferredTensorData;
      if (dt === 'BYTES') {
        const measure = new BytesSpanDecoder(span.body, span.start, span.end, null, null, "input 'x'", clientError);
        while (!measure.step(0));
        const bytes = Buffer.alloc(measure.total);
        const offsets = new Uint32Array(n + 1);
        const fill = new BytesSpanDecoder(span.body, span.start, span.end, bytes, offsets, "input 'x'", clientError);
        while (!fill.step(0));
        expect(show(new ByteStrings(bytes, offsets)) === expected).toBe(true);
      } else {
        const out = (await deferredContainer(text) as object).constructor as new (n: number) => Float32Array;
        const container = new out(n);
        const decoder = new NumericSpanDecoder(span.body, span.start, span.end, dt, container, "input 'x'", clientError);
        while (!decoder.step(0));
        expect(show(container)).toBe(expected);
      }
    }
  });

  it('answers ModelServerErrors only (no crash) for hostile data', async () => {
    for (const data of ['[1e999]', '[123456789012345678901]', `[${'['.repeat(600)}${']'.repeat(600)}]`, '[{"a":' + '['.repeat(100) + ']'.repeat(100) + '}]']) {
      const result = await deferred(requestText('FP32', [1], data));
      expect(result).toMatch(/^error INVALID_REQUEST /);
    }
    expect(ErrorCode.InvalidRequest).toBe('INVALID_REQUEST');
  });
});

async function deferredContainer(text: string): Promise<unknown> {
  const wire = checkInferenceRequest(await parseLargeJsonBody(Buffer.from(text), V2_SPANS));
  await decodeDeferredData(wire, new TensorBudget(1 << 30));
  return wire.inputs[0].data;
}
