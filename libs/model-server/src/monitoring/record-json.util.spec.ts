import { Buffer } from 'node:buffer';
import { MAX_QUOTED_CHARS } from '../errors/clip.util';
import { ByteStrings } from '../model/byte-strings';
import type { InferenceRequest } from '../model/inference.interface';
import { requestJson, responseJson, sentRequestJson, tensorJson, valueJson, wireRequestJson } from './record-json.util';
import { serializeInferenceResponse } from '../codecs/v2-json/v2-json.serializer';

describe('valueJson', () => {
  it('writes what JSON.stringify writes for plain values', () => {
    const v = { a: 1, b: 'two "quoted"\n', c: [true, null, -0.5], d: { e: {} } };
    expect(valueJson(v)).toBe(JSON.stringify(v));
  });

  it('keeps 64-bit integers exact and writes typed arrays and Buffers as arrays and text', () => {
    expect(valueJson({ seed: 18446744073709551615n, big: new BigInt64Array([-(2n ** 63n)]) })).toBe('{"seed":18446744073709551615,"big":[-9223372036854775808]}');
    expect(valueJson(new Float32Array([0.1, 1e38]))).toBe('[0.1,1e+38]');
    expect(valueJson(new Uint8Array([1, 255]))).toBe('[1,255]');
    expect(valueJson(Buffer.from('héllo'))).toBe('"héllo"');
  });

  it('turns what JSON cannot carry into null, skips undefined members, and never throws', () => {
    expect(valueJson([NaN, Infinity, -Infinity, undefined, () => 1])).toBe('[null,null,null,null,null]');
    expect(valueJson({ a: undefined, b: () => 1, c: Symbol('x'), d: 1 })).toBe('{"d":1}');
    expect(valueJson(new Float64Array([NaN, 2]))).toBe('[null,2]');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(valueJson(cycle)).toMatch(/"\[nested too deep\]"/);
  });

  it('writes dates, maps and sets', () => {
    expect(valueJson({ at: new Date(0), m: new Map([['k', 1]]), s: new Set([1, 2]) })).toBe('{"at":"1970-01-01T00:00:00.000Z","m":{"k":1},"s":[1,2]}');
  });
});

describe('tensorJson', () => {
  it('writes v2 tensors with the codecs: FP32 shortest, INT64 exact, BYTES as text', () => {
    expect(tensorJson({ name: 'x', datatype: 'FP32', shape: [2], data: new Float32Array([5.1, 0.2]) })).toBe('{"name":"x","datatype":"FP32","shape":[2],"data":[5.1,0.2]}');
    expect(tensorJson({ name: 'i', datatype: 'INT64', shape: [1], data: new BigInt64Array([2n ** 62n]), parameters: { p: 1 } })).toBe(
      '{"name":"i","datatype":"INT64","shape":[1],"parameters":{"p":1},"data":[4611686018427387904]}',
    );
    expect(tensorJson({ name: 's', datatype: 'BYTES', shape: [1], data: ByteStrings.from(['a"b']) })).toBe('{"name":"s","datatype":"BYTES","shape":[1],"data":["a\\"b"]}');
    expect(valueJson(ByteStrings.from(['x', 'é']))).toBe('["x","é"]');
  });

  it('still logs a tensor JSON cannot carry (NaN from binary input) or a hook left untyped', () => {
    expect(tensorJson({ name: 'x', datatype: 'FP32', shape: [2], data: new Float32Array([NaN, 1]) })).toBe('{"name":"x","datatype":"FP32","shape":[2],"data":[null,1]}');
    expect(tensorJson({ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] as never })).toBe('{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}');
  });
});

describe('request and response JSON', () => {
  const request: InferenceRequest = {
    id: 'r1',
    parameters: { p: 'q' },
    inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: new Int32Array([7]) }],
    outputs: [{ name: 'y' }],
  };

  it('writes a decoded request, id first (or the id given)', () => {
    expect(requestJson(request)).toBe('{"id":"r1","parameters":{"p":"q"},"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[7]}],"outputs":[{"name":"y"}]}');
    expect(requestJson({ id: 'x', inputs: [], body: { free: 1 } }, 'event-id')).toBe('{"id":"event-id","inputs":[],"body":{"free":1}}');
  });

  it('writes a v2 response in protocol order, or an operation value as it is', () => {
    expect(responseJson({ model_name: 'm', model_version: '2', id: 'r1', outputs: [{ name: 'y', datatype: 'BOOL', shape: [1], data: new Uint8Array([1]) }] })).toBe(
      '{"model_name":"m","model_version":"2","id":"r1","outputs":[{"name":"y","datatype":"BOOL","shape":[1],"data":[true]}]}',
    );
    expect(responseJson({ status: 'ok', n: 1n })).toBe('{"status":"ok","n":1}');
  });

  it('writes a request as received: data as sent, binary tensors by size, any other body as it is', () => {
    const wire = { id: 'client-id', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 1], data: [[1], [2]] }, { name: 'b', datatype: 'UINT8', shape: [3], parameters: { binary_data_size: 3 }, raw: new Uint8Array(3) }] };
    expect(wireRequestJson(wire, 'r1')).toBe(
      '{"id":"r1","inputs":[{"name":"x","datatype":"FP32","shape":[2,1],"data":[[1],[2]]},{"name":"b","datatype":"UINT8","shape":[3],"parameters":{"binary_data_size":3}}]}',
    );
    expect(wireRequestJson(undefined, 'r1')).toBe('{"id":"r1"}');
    expect(wireRequestJson({ question: 'why?' }, 'r1')).toBe('{"question":"why?"}');
    expect(wireRequestJson('not json at all', 'r1')).toBe('"not json at all"');
  });

  it('quotes a body it could not read as client text is: its start, then how many bytes it had', () => {
    const sent = Buffer.from('{"inputs": [\n', 'utf8');
    expect(wireRequestJson(sent, 'r1')).toBe('{"id":"r1","body":"{\\"inputs\\": [\\n"}');
    const at = (n: number, text: string) => ({ id: 'r2', body: text.slice(0, MAX_QUOTED_CHARS) + `… (${n} ${text.length === n ? 'characters' : 'bytes'})` });
    // Within the bytes it decodes: clipped by characters (a multi-byte character stays whole).
    const accents = 'é'.repeat(MAX_QUOTED_CHARS + 10);
    expect(JSON.parse(wireRequestJson(Buffer.from(accents, 'utf8'), 'r2'))).toEqual(at(accents.length, accents));
    // A body of megabytes: its first characters only, and its size.
    const huge = Buffer.alloc(8 * 1024 * 1024, 'x');
    expect(JSON.parse(wireRequestJson(huge, 'r2'))).toEqual(at(huge.length, 'x'.repeat(MAX_QUOTED_CHARS + 1)));
    expect(wireRequestJson(huge.subarray(0, 3), 'r3')).toBe('{"id":"r3","body":"xxx"}');
  });
});

describe('responseJson and the transport', () => {
  it('writes a v2 response once: the transport gets the same text without writing the tensors again', () => {
    const data = new Float32Array([0.1, 2.5]);
    const response = { model_name: 'm', model_version: '2', id: 'r', outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [2], data }] };
    const logged = responseJson(response);
    expect(logged).toBe('{"model_name":"m","model_version":"2","id":"r","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[0.1,2.5]}]}');
    data[0] = 7; // would show if the transport wrote the tensors again
    expect(serializeInferenceResponse(response)).toBe(logged);
    // Another response object is written afresh.
    expect(serializeInferenceResponse({ ...response })).toContain('"data":[7,2.5]');
  });

  it('logs values JSON cannot carry as null, while the transport still refuses them', () => {
    const response = { model_name: 'm', id: 'r', outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [1], data: new Float32Array([NaN]) }] };
    expect(responseJson(response)).toBe('{"model_name":"m","id":"r","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[null]}]}');
    expect(() => serializeInferenceResponse(response)).toThrow(/NaN or Infinity/);
  });
});

describe('sentRequestJson', () => {
  const text = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[0.1234567891]}]}';

  it('takes the client\'s text as it is when it carries the id', () => {
    const withId = '{"id":"r-1", "inputs":[]}';
    expect(sentRequestJson(withId, 'r-1', { id: 'r-1', inputs: [] })).toBe(withId);
    expect(sentRequestJson('  \t' + withId + '  ', 'r-1', { id: 'r-1', inputs: [] })).toBe(withId + '  ');
  });

  it('puts a generated id first when the client sent none', () => {
    const out = sentRequestJson(text, 'gen-1', JSON.parse(text))!;
    expect(out).toBe('{"id":"gen-1",' + text.slice(1));
    expect(JSON.parse(out)).toEqual({ id: 'gen-1', ...JSON.parse(text) });
    expect(sentRequestJson(' { "inputs":[]}', 'g"2', { inputs: [] })).toBe('{"id":"g\\"2", "inputs":[]}');
  });

  it('gives undefined when the text cannot go into a one-line record as it is', () => {
    expect(sentRequestJson('{\n"inputs":[]}', 'g', { inputs: [] })).toBeUndefined();
    expect(sentRequestJson('{"inputs":[]}\r', 'g', { inputs: [] })).toBeUndefined();
    expect(sentRequestJson('[1,2]', 'g', [1, 2])).toBeUndefined();
    expect(sentRequestJson('{ }', 'g', {})).toBeUndefined();
    expect(sentRequestJson('{"id":"a","inputs":[]}', 'b', { id: 'a', inputs: [] })).toBeUndefined();
  });
});
