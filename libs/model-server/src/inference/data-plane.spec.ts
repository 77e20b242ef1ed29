import { Logger } from '@nestjs/common';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { invalidRequest } from '../errors';
import { ErrorCode } from '../errors/error-code.enum';
import { inProcessExecutor } from '../execution';
import { ModelServer, Operation, type InferenceRequest, type InferenceResult } from '../model';
import { InferenceEventStream } from './inference-event-stream';
import type { InferenceEvent } from './inference-event.interface';
import { ModelRepository } from '../repository/model-repository';
import { DataPlane } from './data-plane';
import { DEFAULT_REQUEST_LIMITS } from './request-limits';

class Echo extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: request.inputs.map((t) => ({ ...t })) };
  }

  @Operation()
  stats(): unknown {
    return { calls: 1 };
  }
}

class Faulty extends ModelServer {
  predict(): InferenceResult {
    throw new Error('boom');
  }
}

/** Answers once the test lets it. */
class Gated extends ModelServer {
  static release: () => void = () => undefined;
  predict(request: InferenceRequest): Promise<InferenceResult> {
    return new Promise((resolve) => (Gated.release = () => resolve({ outputs: request.inputs.map((t) => ({ ...t })) })));
  }
}

beforeAll(() => Logger.overrideLogger(false));

const wire = (id?: string): WireInferenceRequest => ({ ...(id === undefined ? {} : { id }), inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] });
const REST = { protocol: 'rest' };

async function plane(models: ConstructorParameters<typeof ModelRepository>[0], limits?: Partial<DataPlane['limits']>) {
  const repository = new ModelRepository(models, 'blocking', inProcessExecutor);
  await repository.loadAll();
  const events = new InferenceEventStream();
  const seen: InferenceEvent[] = [];
  events.listen((e) => seen.push(e));
  const dp = new DataPlane(repository, events, { maxInFlight: 0, requestTimeoutMs: 0, maxRequestBytesInFlight: 0, ...DEFAULT_REQUEST_LIMITS, ...limits });
  return { dp, seen, repository };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('DataPlane: one monitoring event per request', () => {
  it('a request that succeeds: one event, with its stages, request and response', async () => {
    const { dp, seen } = await plane([{ name: 'echo', model: Echo }]);
    const req = dp.begin('infer', 'echo', undefined, REST);
    const response = await req.run(wire('ok-1'));
    expect(response.id).toBe('ok-1');
    req.refuse(new Error('too late')); // the run gave it its event already
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: 'ok-1', model: 'echo', op: 'infer', protocol: 'rest', status: 'ok', errorCode: undefined });
    expect(Object.keys(seen[0].stages).sort()).toEqual(['decode', 'encode', 'predict']);
    expect(seen[0].request?.inputs[0].name).toBe('x');
    expect(seen[0].response).toBe(response);
  });

  it('a request the transport refused before decoding: one event with the error, and it cannot run afterwards', async () => {
    const { dp, seen } = await plane([{ name: 'echo', model: Echo }]);
    const req = dp.begin('infer', 'echo', undefined, { protocol: 'rest', headers: { traceparent: 'tp' } });
    req.refuse(invalidRequest('the body is not JSON'), { id: 'bad-1' });
    req.refuse(invalidRequest('again'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: 'bad-1', model: 'echo', status: 'error', errorCode: ErrorCode.InvalidRequest, error: 'the body is not JSON', traceparent: 'tp' });
    expect(seen[0].request).toBeUndefined();
    expect(() => req.run(wire())).toThrow(/already run or refused/);
    expect(seen).toHaveLength(1);
  });

  it('a model error: one event with the coded error the caller gets', async () => {
    const { dp, seen } = await plane([{ name: 'faulty', model: Faulty }]);
    const req = dp.begin('infer', 'faulty', undefined, REST);
    const failure = await Promise.resolve(req.run(wire('f-1'))).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: ErrorCode.ModelError, message: "model 'faulty' failed in predict (request f-1); details are in the server log" });
    req.refuse(failure);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: 'f-1', status: 'error', errorCode: ErrorCode.ModelError });
    expect(seen[0].error).toContain('boom');
  });

  it('a refusal by the data plane (overloaded): one event, and the transport reporting it too adds none', async () => {
    const { dp, seen } = await plane([{ name: 'gated', model: Gated }], { maxInFlight: 1 });
    const first = dp.begin('infer', 'gated', undefined, REST).run(wire('first'));
    expect(dp.requestsInFlight).toBe(1);
    const second = dp.begin('infer', 'gated', undefined, REST);
    const refused = Promise.resolve(second.run(wire('second'))).catch((err: unknown) => err);
    second.refuse(await refused);
    expect(await refused).toMatchObject({ code: ErrorCode.Overloaded });
    expect(seen.map((e) => [e.id, e.errorCode])).toEqual([['second', ErrorCode.Overloaded]]);
    Gated.release();
    await first;
    expect(dp.requestsInFlight).toBe(0);
    expect(seen.map((e) => [e.id, e.status])).toEqual([
      ['second', 'error'],
      ['first', 'ok'],
    ]);
  });

  it('no event for a model, version or operation that does not exist, nor for explain the model lacks', async () => {
    const { dp, seen } = await plane([{ name: 'echo', model: Echo }]);
    expect(await codeOf(dp.infer('nope', undefined, wire(), REST))).toBe(ErrorCode.NotFound);
    expect(await codeOf(dp.infer('echo', '7', wire(), REST))).toBe(ErrorCode.NotFound);
    expect(await codeOf(dp.operation('echo', undefined, 'invented', { body: {} }, REST))).toBe(ErrorCode.NotFound);
    expect(await codeOf(dp.explain('echo', undefined, wire(), REST))).toBe(ErrorCode.NotFound);
    dp.begin('invented', 'echo', undefined, REST).refuse(invalidRequest('bad'));
    dp.begin('infer', 'nope', undefined, REST).refuse(invalidRequest('bad'));
    expect(seen).toEqual([]);
    // A declared operation is recorded, refused or not.
    dp.begin('stats', 'echo', undefined, REST).refuse(invalidRequest('bad'));
    expect(await dp.operation('echo', undefined, 'stats', { body: {} }, REST)).toEqual({ kind: 'value', value: { calls: 1 } });
    expect(seen.map((e) => [e.op, e.status])).toEqual([
      ['stats', 'error'],
      ['stats', 'ok'],
    ]);
  });

  it("a transport's own reading and writing run inside the request: timed, in its event, within its deadline", async () => {
    const { dp, seen } = await plane([{ name: 'echo', model: Echo }]);
    const answer = await dp.begin('infer', 'echo', undefined, REST).invoke({
      input: () => Promise.resolve(wire('edge-1')),
      output: (response) => `${response.outputs.length} output`,
    });
    expect(answer).toBe('1 output');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: 'edge-1', status: 'ok' });
    expect(Object.keys(seen[0].stages).sort()).toEqual(['decode', 'encode', 'input', 'output', 'predict']);

    const late = dp.begin('infer', 'echo', undefined, { protocol: 'sagemaker', deadline: Date.now() + 30 }).invoke({
      input: () => new Promise<WireInferenceRequest>(() => undefined),
      output: () => 'never',
    });
    await expect(late).rejects.toMatchObject({ code: ErrorCode.DeadlineExceeded, message: "the request's deadline passed during input" });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ protocol: 'sagemaker', status: 'error', errorCode: ErrorCode.DeadlineExceeded });
    expect(dp.requestsInFlight).toBe(0);
  });

  it('pins a request to a router member only for routers', async () => {
    const { dp } = await plane([{ name: 'echo', model: Echo }]);
    expect(() => dp.pinToMember('echo', undefined, wire(), 'a')).toThrow("model 'echo' is not a router, so it has no member 'a'");
  });
});

/** Each hook synchronous or not, as the test sets it: the chain goes asynchronous at any of them. */
class Mixed extends ModelServer {
  static async: { preprocess?: boolean; predict?: boolean; postprocess?: boolean } = {};
  preprocess(request: InferenceRequest): InferenceRequest | Promise<InferenceRequest> {
    return Mixed.async.preprocess === true ? Promise.resolve(request) : request;
  }
  predict(request: InferenceRequest): InferenceResult | Promise<InferenceResult> {
    const result = { outputs: request.inputs.map((t) => ({ ...t, data: Array.from(t.data as ArrayLike<number>, (v) => v * 2) })) };
    return Mixed.async.predict === true ? Promise.resolve(result) : result;
  }
  postprocess(result: InferenceResult): InferenceResult | Promise<InferenceResult> {
    const done = { outputs: result.outputs.map((t) => ({ ...t, data: Array.from(t.data as ArrayLike<number>, (v) => v + 1) })) };
    return Mixed.async.postprocess === true ? Promise.resolve(done) : done;
  }
}

describe('DataPlane: synchronous model code is answered at once', () => {
  it('a request whose stages are all synchronous gets its response, not a promise, with its event emitted and the request out', async () => {
    const { dp, seen } = await plane([{ name: 'echo', model: Echo }]);
    const response = dp.begin('infer', 'echo', undefined, REST).run(wire('now-1'));
    expect(response).not.toBeInstanceOf(Promise);
    expect((response as { id: string }).id).toBe('now-1');
    expect(dp.requestsInFlight).toBe(0);
    expect(seen.map((e) => [e.id, e.status])).toEqual([['now-1', 'ok']]);
  });

  it('a synchronous failure is a rejected promise with its catalogue code, the request closed and its event emitted', async () => {
    const { dp, seen } = await plane([{ name: 'faulty', model: Faulty }]);
    const response = dp.begin('infer', 'faulty', undefined, REST).run(wire('bad-now'));
    expect(response).toBeInstanceOf(Promise);
    expect(dp.requestsInFlight).toBe(0);
    expect(await codeOf(response as Promise<unknown>)).toBe(ErrorCode.ModelError);
    expect(seen.map((e) => [e.id, e.errorCode])).toEqual([['bad-now', ErrorCode.ModelError]]);
  });

  it.each([
    ['nothing', {}],
    ['preprocess', { preprocess: true }],
    ['predict', { predict: true }],
    ['postprocess', { postprocess: true }],
    ['every hook', { preprocess: true, predict: true, postprocess: true }],
  ])('the same answer and stages whichever hooks are asynchronous (%s)', async (which, async) => {
    Mixed.async = async;
    const { dp, seen } = await plane([{ name: 'mixed', model: Mixed }]);
    const run = dp.begin('infer', 'mixed', undefined, REST).run(wire('m-1'));
    expect(run instanceof Promise).toBe(which !== 'nothing');
    const response = await run;
    expect(Array.from(response.outputs[0].data as ArrayLike<number>)).toEqual([3, 5]);
    expect(dp.requestsInFlight).toBe(0);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0].stages).sort()).toEqual(['decode', 'encode', 'postprocess', 'predict', 'preprocess']);
    expect(seen[0].response).toBe(response);
  });
});

describe('ModelVersion admission', () => {
  it('counts the requests it admitted and refuses past its own maxInFlight', async () => {
    const { dp, repository } = await plane([{ name: 'gated', model: Gated, maxInFlight: 1 }]);
    const mv = repository.get('gated', undefined);
    const first = dp.infer('gated', undefined, wire(), REST);
    expect(mv.inFlight).toBe(1);
    expect(await codeOf(dp.infer('gated', undefined, wire(), REST))).toBe(ErrorCode.Overloaded);
    Gated.release();
    await first;
    expect(mv.inFlight).toBe(0);
  });
});
