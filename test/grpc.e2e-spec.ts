import { status } from '@grpc/grpc-js';
import { ModelServer, type InferenceRequest, type InferenceResult, type RequestContext } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import type { Subscription } from 'rxjs';
import { BrokenFixture, EchoFixture, SumFixture } from './fixtures/test-models';
import { bytesOf, createGrpcApp, lengthPrefixed, type GrpcTestApp, type Message } from './helpers/grpc-client';

/** Reports what the request looked like to model code, as outputs and parameters. */
class InspectFixture extends ModelServer {
  predict(request: InferenceRequest, ctx: RequestContext): InferenceResult {
    const kinds = request.inputs.map((t) => `${t.name}:${t.datatype}:${(t.data as object).constructor.name}`);
    return {
      outputs: [{ name: 'kinds', datatype: 'BYTES', shape: [kinds.length], data: kinds }],
      parameters: {
        seen: JSON.stringify(request.parameters ?? {}, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        input_parameters: JSON.stringify(request.inputs[0].parameters ?? {}),
        deadline_in_ms: ctx.deadline === undefined ? -1 : Math.round((ctx.deadline - Date.now()) / 1000) * 1000,
        traceparent: ctx.headers?.traceparent ?? '',
        flag: true,
        big: 2n ** 63n - 1n,
        huge: 2n ** 64n - 1n,
        negative: -(2n ** 63n),
        ratio: 0.25,
        count: 3,
        nested: { a: [1, 2] } as unknown as string,
      },
    };
  }
}

const fp32 = (values: number[], name = 'x'): Message => ({ name, datatype: 'FP32', shape: [values.length], contents: { fp32_contents: values } });

describe('gRPC inference.GRPCInferenceService', () => {
  let t: GrpcTestApp;
  let events: InferenceEvent[];
  let subscription: Subscription;

  beforeAll(async () => {
    t = await createGrpcApp({
      modelControl: true,
      models: [
        { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] },
        { name: 'sum', model: SumFixture, parameters: { threshold: 7 } },
        { name: 'inspect', model: InspectFixture },
        { name: 'broken', model: BrokenFixture },
      ],
    });
    events = [];
    subscription = t.app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    subscription.unsubscribe();
    await t.close();
  });

  describe('server and model RPCs', () => {
    it('ServerLive answers live', async () => {
      expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
    });

    it('ServerReady is false while a configured model failed (strict readiness)', async () => {
      expect(await t.client.call('ServerReady', {})).toEqual({ ready: false });
    });

    it('ServerMetadata gives name, version and the extensions REST serves', async () => {
      const meta = await t.client.call('ServerMetadata', {});
      expect(meta.name).toBe('nest-model-server');
      expect(typeof meta.version).toBe('string');
      expect(meta.extensions).toEqual(expect.arrayContaining(['model_repository']));
    });

    it.each([
      ['echo', '', true],
      ['echo', '1', true],
      ['broken', '', false],
    ])('ModelReady %s (version %j) is %s', async (name, version, ready) => {
      expect(await t.client.call('ModelReady', { name, version })).toEqual({ ready });
    });

    it('ModelReady of an unknown model or version is NOT_FOUND', async () => {
      const unknown = await t.client.fail('ModelReady', { name: 'nope' });
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toMatch(/model 'nope'/);
      const version = await t.client.fail('ModelReady', { name: 'echo', version: '9' });
      expect(version.code).toBe(status.NOT_FOUND);
      expect(version.details).toMatch(/no version '9'.*'1', '2'/);
    });

    it('ModelMetadata lists versions, platform and the declared signature', async () => {
      const sum = await t.client.call('ModelMetadata', { name: 'sum' });
      expect(sum).toEqual({
        name: 'sum',
        versions: [],
        platform: 'nest-model-server',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1'] }],
        outputs: [
          { name: 'sum', datatype: 'FP64', shape: ['1'] },
          { name: 'count', datatype: 'INT64', shape: ['1'] },
        ],
      });
      const echo = await t.client.call('ModelMetadata', { name: 'echo', version: '1' });
      expect(echo.versions).toEqual(['1', '2']);
      expect((await t.client.fail('ModelMetadata', { name: 'echo', version: '3' })).code).toBe(status.NOT_FOUND);
      expect((await t.client.fail('ModelMetadata', { name: '' })).code).toBe(status.INVALID_ARGUMENT);
    });

    it('RepositoryIndex lists every version with its state, ready filters', async () => {
      const all = await t.client.call('RepositoryIndex', {});
      expect(all.models).toContainEqual({ name: 'echo', version: '2', state: 'READY', reason: '' });
      expect(all.models).toContainEqual({ name: 'broken', version: '', state: 'UNAVAILABLE', reason: 'weights file is corrupt' });
      const ready = await t.client.call('RepositoryIndex', { ready: true });
      expect(ready.models.some((m: Message) => m.name === 'broken')).toBe(false);
      expect(ready.models.some((m: Message) => m.name === 'sum')).toBe(true);
    });

    it('RepositoryModelUnload and RepositoryModelLoad (KServe model_name, Triton field 2) change readiness', async () => {
      expect(await t.client.call('RepositoryModelUnload', { model_name: 'sum' })).toEqual({ model_name: 'sum', isUnloaded: true });
      expect(await t.client.call('ModelReady', { name: 'sum' })).toEqual({ ready: false });
      const refused = await t.client.fail('ModelInfer', { model_name: 'sum', inputs: [fp32([1])] });
      expect(refused.code).toBe(status.UNAVAILABLE);
      expect(await t.client.call('RepositoryModelLoad', { triton_model_name: 'sum' })).toEqual({ model_name: 'sum', isLoaded: true });
      expect(await t.client.call('RepositoryModelLoad', { model_name: 'sum' })).toEqual({ model_name: 'sum', isLoaded: true });
      expect(await t.client.call('ModelReady', { name: 'sum' })).toEqual({ ready: true });
    });

    it('RepositoryModelLoad of a model that fails to load is UNAVAILABLE with the reason; unknown is NOT_FOUND', async () => {
      const failed = await t.client.fail('RepositoryModelLoad', { model_name: 'broken' });
      expect(failed.code).toBe(status.UNAVAILABLE);
      expect(failed.details).toBe("model 'broken' did not load (failed): weights file is corrupt");
      expect((await t.client.fail('RepositoryModelLoad', { model_name: 'nope' })).code).toBe(status.NOT_FOUND);
      expect((await t.client.fail('RepositoryModelUnload', { model_name: '' })).code).toBe(status.INVALID_ARGUMENT);
    });

    it('a failed load answers the same over REST and gRPC: UNAVAILABLE and 503 with the same message', async () => {
      const overGrpc = await t.client.fail('RepositoryModelLoad', { model_name: 'broken' });
      const overRest = await t.app.inject({ method: 'POST', url: '/v2/repository/models/broken/load', payload: {} });
      expect(overGrpc.code).toBe(status.UNAVAILABLE);
      expect(overRest.statusCode).toBe(503);
      expect(overRest.json()).toEqual({ error: overGrpc.details });
      expect(overGrpc.details).toMatch(/^model 'broken' did not load \(failed\): weights file is corrupt$/);
    });
  });

  describe('ModelInfer with typed contents', () => {
    const cases: [string, string, unknown[]][] = [
      ['BOOL', 'bool_contents', [true, false, true]],
      ['UINT8', 'uint_contents', [0, 255]],
      ['UINT16', 'uint_contents', [0, 65535]],
      ['UINT32', 'uint_contents', [0, 4294967295]],
      ['UINT64', 'uint64_contents', ['0', '18446744073709551615']],
      ['INT8', 'int_contents', [-128, 127]],
      ['INT16', 'int_contents', [-32768, 32767]],
      ['INT32', 'int_contents', [-2147483648, 2147483647]],
      ['INT64', 'int64_contents', ['-9223372036854775808', '9223372036854775807', '-1']],
      ['FP32', 'fp32_contents', [1.5, -0, 3.4028234663852886e38, Math.fround(1e-45)]],
      ['FP64', 'fp64_contents', [Math.PI, 5e-324, -1.7976931348623157e308]],
      ['BYTES', 'bytes_contents', [Buffer.from('hi'), Buffer.from([0xff, 0x00, 0xfe])]],
    ];

    it.each(cases)('%s round-trips exactly through %s', async (datatype, field, values) => {
      const res = await t.client.call('ModelInfer', {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype, shape: [values.length], contents: { [field]: values } }],
      });
      expect(res.model_name).toBe('echo');
      expect(res.model_version).toBe('2');
      expect(res.raw_output_contents).toEqual([]);
      expect(res.outputs).toHaveLength(1);
      const out = res.outputs[0];
      expect([out.name, out.datatype, out.shape]).toEqual(['x', datatype, [String(values.length)]]);
      expect(out.contents[field]).toEqual(values);
      for (const [k, v] of Object.entries(out.contents)) if (k !== field) expect(v).toEqual([]);
    });

    it.each([
      [[], [7.25], []],
      [[0], [], ['0']],
      [[3, 0], [], ['3', '0']],
      [[2, 2], [1, 2, 3, 4], ['2', '2']],
    ])('shape %j (scalar, empty, 2-D) is kept', async (shape, values, expected) => {
      const res = await t.client.call('ModelInfer', {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype: 'FP32', shape, contents: values.length > 0 ? { fp32_contents: values } : undefined }],
      });
      expect(res.outputs[0].shape).toEqual(expected);
      expect(res.outputs[0].contents === null ? [] : res.outputs[0].contents.fp32_contents).toEqual(values);
    });

    it('accepts a lower-case datatype (answers it upper case)', async () => {
      const res = await t.client.call('ModelInfer', { model_name: 'echo', inputs: [{ name: 'x', datatype: 'int32', shape: [1], contents: { int_contents: [5] } }] });
      expect(res.outputs[0].datatype).toBe('INT32');
      expect(res.outputs[0].contents.int_contents).toEqual([5]);
    });

    it('hands model code typed arrays (64-bit as BigInt64Array), never plain arrays', async () => {
      const res = await t.client.call('ModelInfer', {
        model_name: 'inspect',
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [1], contents: { int64_contents: ['9007199254740993'] } },
          { name: 'b', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
          { name: 'c', datatype: 'INT8', shape: [1], contents: { int_contents: [-3] } },
          { name: 'd', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('z')] } },
        ],
      });
      expect(res.outputs[0].contents.bytes_contents.map(String)).toEqual(['a:INT64:BigInt64Array', 'b:FP32:Float32Array', 'c:INT8:Int8Array', 'd:BYTES:ByteStrings']);
    });
  });

  describe('ModelInfer with raw_input_contents', () => {
    const cases: [string, ArrayBufferView | Buffer][] = [
      ['BOOL', new Uint8Array([1, 0, 1])],
      ['UINT8', new Uint8Array([0, 255])],
      ['UINT16', new Uint16Array([0, 65535])],
      ['UINT32', new Uint32Array([0, 4294967295])],
      ['UINT64', new BigUint64Array([0n, 2n ** 64n - 1n])],
      ['INT8', new Int8Array([-128, 127])],
      ['INT16', new Int16Array([-32768, 32767])],
      ['INT32', new Int32Array([-2147483648, 2147483647])],
      ['INT64', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])],
      ['FP16', new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001])],
      ['BF16', new Uint16Array([0x3f80, 0xbf80])],
      ['FP32', new Float32Array([1.5, NaN, Infinity, -Infinity])],
      ['FP64', new Float64Array([Math.PI, NaN, -Infinity, 5e-324])],
    ];

    it.each(cases)('%s comes back raw, byte for byte', async (datatype, data) => {
      const count = datatype === 'FP16' || datatype === 'BF16' ? data.byteLength / 2 : (data as unknown as ArrayLike<unknown>).length;
      const res = await t.client.call('ModelInfer', {
        model_name: 'echo',
        model_version: '1',
        inputs: [{ name: 'x', datatype, shape: [count] }],
        raw_input_contents: [bytesOf(data)],
      });
      expect(res.model_version).toBe('1');
      expect(res.outputs[0].contents).toBeNull();
      expect(res.outputs[0].datatype).toBe(datatype);
      expect(res.raw_output_contents).toHaveLength(1);
      expect(Buffer.compare(res.raw_output_contents[0], bytesOf(data))).toBe(0);
    });

    it('BYTES raw is length-prefixed both ways, arbitrary bytes kept', async () => {
      const raw = lengthPrefixed(['hello', Buffer.from([0xff, 0x00]), '']);
      const res = await t.client.call('ModelInfer', { model_name: 'echo', inputs: [{ name: 's', datatype: 'BYTES', shape: [3] }], raw_input_contents: [raw] });
      expect(Buffer.compare(res.raw_output_contents[0], raw)).toBe(0);
    });

    it('BYTES raw over 1 MiB (split into elements in slices) comes back the same; malformed, the error a small one gets', async () => {
      const items = Array.from({ length: 300_000 }, (_, i) => Buffer.alloc(i % 50 === 0 ? 40 : i % 7, i & 0xff));
      items.push(Buffer.alloc(5, 0x61));
      const raw = lengthPrefixed(items);
      expect(raw.length).toBeGreaterThan(1024 * 1024);
      const input = (count: number) => [{ name: 's', datatype: 'BYTES', shape: [count] }];
      const res = await t.client.call('ModelInfer', { model_name: 'echo', inputs: input(items.length), raw_input_contents: [raw] });
      expect(Buffer.compare(res.raw_output_contents[0], raw)).toBe(0);
      const broken = Buffer.from(raw);
      broken.writeUInt32LE(0xffff, raw.length - 4 - 5); // the last element (5 bytes) declares more than is left
      const large = await t.client.fail('ModelInfer', { model_name: 'echo', inputs: input(items.length), raw_input_contents: [broken] });
      const small = await t.client.fail('ModelInfer', { model_name: 'echo', inputs: input(2), raw_input_contents: [lengthPrefixed(['ok', Buffer.alloc(5)]).fill(0xff, 6, 8)] });
      expect(large.code).toBe(status.INVALID_ARGUMENT);
      expect(small.code).toBe(status.INVALID_ARGUMENT);
      expect(large.details).toBe(`input 's': raw BYTES element ${items.length - 1} declares 65535 bytes, but only 5 remain`);
      expect(small.details).toBe("input 's': raw BYTES element 1 declares 65535 bytes, but only 5 remain");
    });

    it('several inputs and empty tensors keep one raw entry each, in order', async () => {
      const a = new Float32Array([1, 2]);
      const res = await t.client.call('ModelInfer', {
        model_name: 'echo',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 2] },
          { name: 'e', datatype: 'INT32', shape: [0, 3] },
          { name: 's', datatype: 'FP64', shape: [] },
        ],
        raw_input_contents: [bytesOf(a), Buffer.alloc(0), bytesOf(new Float64Array([9]))],
      });
      expect(res.outputs.map((o: Message) => [o.name, o.shape])).toEqual([
        ['a', ['1', '2']],
        ['e', ['0', '3']],
        ['s', []],
      ]);
      expect(res.raw_output_contents.map((b: Buffer) => b.length)).toEqual([8, 0, 8]);
    });
  });

  describe('requests through the data plane, as on REST', () => {
    it('outputs filtering returns only the requested outputs, in the order asked', async () => {
      const res = await t.client.call('ModelInfer', {
        model_name: 'echo',
        inputs: [fp32([1], 'a'), fp32([2], 'b'), fp32([3], 'c')],
        outputs: [{ name: 'c' }, { name: 'a' }],
      });
      expect(res.outputs.map((o: Message) => o.name)).toEqual(['c', 'a']);
      expect(res.outputs[0].contents.fp32_contents).toEqual([3]);
    });

    it('model_version is honoured, and the id echoed or generated', async () => {
      const v1 = await t.client.call('ModelInfer', { model_name: 'echo', model_version: '1', id: 'req-7', inputs: [fp32([1])] });
      expect([v1.model_version, v1.id]).toEqual(['1', 'req-7']);
      const generated = await t.client.call('ModelInfer', { model_name: 'echo', inputs: [fp32([1])] });
      expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('runs every hook and the model context (custom parameters) like REST', async () => {
      const res = await t.client.call('ModelInfer', { model_name: 'sum', inputs: [fp32([1, 2, 3.5])] });
      expect(res.outputs.map((o: Message) => o.name)).toEqual(['sum', 'count']);
      expect(res.outputs[0].contents.fp64_contents).toEqual([6.5]);
      expect(res.outputs[1].contents.int64_contents).toEqual(['3']);
      expect(res.parameters.hooks).toEqual({ string_param: 'preprocess>validate>predict>postprocess', parameter_choice: 'string_param' });
      expect(res.parameters.threshold).toEqual({ int64_param: '7', parameter_choice: 'int64_param' });
    });

    it('parameters travel both ways with every kind (bool, int64, string, double, uint64), 64-bit exact', async () => {
      const res = await t.client.call(
        'ModelInfer',
        {
          model_name: 'inspect',
          parameters: {
            b: { bool_param: true },
            i: { int64_param: '-9223372036854775808' },
            small: { int64_param: '42' },
            s: { string_param: 'text' },
            d: { double_param: 0.5 },
            u: { uint64_param: '18446744073709551615' },
          },
          inputs: [{ ...fp32([1]), parameters: { note: { string_param: 'per-input' } } }],
        },
        { deadline: Date.now() + 60_000, metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      );
      expect(JSON.parse(res.parameters.seen.string_param)).toEqual({
        b: true,
        i: '-9223372036854775808n',
        small: 42,
        s: 'text',
        d: 0.5,
        u: '18446744073709551615n',
      });
      expect(JSON.parse(res.parameters.input_parameters.string_param)).toEqual({ note: 'per-input' });
      const p = (name: string) => res.parameters[name][res.parameters[name].parameter_choice];
      expect(p('flag')).toBe(true);
      expect(p('big')).toBe('9223372036854775807');
      expect(res.parameters.huge.parameter_choice).toBe('uint64_param');
      expect(p('huge')).toBe('18446744073709551615');
      expect(p('negative')).toBe('-9223372036854775808');
      expect(p('ratio')).toBe(0.25);
      expect(p('count')).toBe('3');
      expect(JSON.parse(p('nested'))).toEqual({ a: [1, 2] });
      // grpc-timeout became the request's deadline; metadata's traceparent reached the model.
      expect(Number(p('deadline_in_ms'))).toBe(60_000);
      expect(p('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    });

    it('monitoring events carry protocol grpc, the stage timings and the traceparent', async () => {
      events.length = 0;
      await t.client.call('ModelInfer', { model_name: 'sum', id: 'watched', inputs: [fp32([2])] }, { metadata: { traceparent: '00-abc-def-01' } });
      const event = events.find((e) => e.id === 'watched');
      expect(event).toMatchObject({ model: 'sum', op: 'infer', protocol: 'grpc', status: 'ok', traceparent: '00-abc-def-01' });
      expect(event!.stages.predict).toEqual(expect.any(Number));
      const failed = await t.client.fail('ModelInfer', { model_name: 'sum', id: 'bad', inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1] } }] });
      expect(failed.code).toBe(status.INVALID_ARGUMENT);
      expect(events.find((e) => e.id === 'bad')).toMatchObject({ protocol: 'grpc', status: 'error', errorCode: 'INVALID_REQUEST' });
    });

    it('accepts messages above grpc-js 4 MiB default (64 MiB by default) and answers them raw', async () => {
      const big = new Float32Array(3 * 1024 * 1024); // 12 MiB
      big[big.length - 1] = 42;
      const res = await t.client.call('ModelInfer', { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: [big.length] }], raw_input_contents: [bytesOf(big)] });
      const back = res.raw_output_contents[0] as Buffer;
      expect(back.length).toBe(big.byteLength);
      expect(back.readFloatLE(back.length - 4)).toBe(42);
    });
  });

  describe('server reflection', () => {
    it('lists the inference service and describes ModelInfer without the .proto', async () => {
      const { loadSync } = await import('@grpc/proto-loader');
      const grpc = await import('@grpc/grpc-js');
      const path = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
      const def = loadSync(path, { keepCase: true, longs: String, defaults: true, oneofs: true });
      const Ctor = grpc.makeGenericClientConstructor(def['grpc.reflection.v1.ServerReflection'] as never, 'ServerReflection');
      const client = new Ctor(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure()) as unknown as {
        ServerReflectionInfo(): import('@grpc/grpc-js').ClientDuplexStream<Message, Message>;
        close(): void;
      };
      const ask = (request: Message) =>
        new Promise<Message>((resolve, reject) => {
          const stream = client.ServerReflectionInfo();
          stream.on('data', (m: Message) => {
            resolve(m);
            stream.end();
          });
          stream.on('error', reject);
          stream.write(request);
        });
      try {
        const list = await ask({ list_services: '*' });
        expect(list.list_services_response.service.map((s: Message) => s.name)).toEqual(expect.arrayContaining(['inference.GRPCInferenceService', 'grpc.health.v1.Health']));
        const file = await ask({ file_containing_symbol: 'inference.GRPCInferenceService' });
        const descriptors = Buffer.concat(file.file_descriptor_response.file_descriptor_proto).toString('latin1');
        for (const name of ['ModelInfer', 'ModelStreamInfer', 'RepositoryIndex', 'raw_input_contents', 'uint64_param']) expect(descriptors).toContain(name);
      } finally {
        client.close();
      }
    });
  });
});
