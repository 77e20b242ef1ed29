import { join } from 'node:path';
import { createTestServer } from 'nest-model-server/testing';
import type { TestInferenceResponse, TestServer } from 'nest-model-server/testing';
import { ScorecardModel } from './scorecard.model';

interface JsonTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

type Applicant = [age: number, income: number, debt: number, employed: boolean];

function applicants(rows: Applicant[]): { inputs: JsonTensor[] } {
  const n = rows.length;
  return {
    inputs: [
      { name: 'age', datatype: 'INT32', shape: [n], data: rows.map((r) => r[0]) },
      { name: 'income', datatype: 'FP64', shape: [n], data: rows.map((r) => r[1]) },
      { name: 'debt', datatype: 'FP64', shape: [n], data: rows.map((r) => r[2]) },
      { name: 'employed', datatype: 'BOOL', shape: [n], data: rows.map((r) => r[3]) },
    ],
  };
}

function output(res: TestInferenceResponse, name: string): JsonTensor {
  const found = res.outputs.find((t) => t.name === name);
  if (!found) throw new Error(`no output '${name}' among ${res.outputs.map((t) => t.name).join(', ')}`);
  return found;
}

const MODEL_PATH = join(__dirname, 'model');

// Expected scores from model/weights.json (intercept -1; age_decades 0.3, log_income 0.5,
// debt_to_income -2.5, employed 1.2):
// - 45 years, income 60000, debt 10000, employed:
//   z = -1 + 0.3*2.7 + 0.5*ln(61) - 2.5*(1/6) + 1.2 = 2.64877 → score 0.93394 (approve)
// - 22 years, income 15000, debt 30000, unemployed:
//   z = -1 + 0.3*0.4 + 0.5*ln(16) - 2.5*2 = -4.49371 → score 0.01106 (decline)
// - 30 years, income 40000, debt 20000, employed:
//   z = -1 + 0.3*1.2 + 0.5*ln(41) - 2.5*0.5 + 1.2 = 1.16679 → score 0.76256 (approve at 0.5, decline at 0.9)
const APPROVE: Applicant = [45, 60000, 10000, true];
const DECLINE: Applicant = [22, 15000, 30000, false];
const BORDERLINE: Applicant = [30, 40000, 20000, true];

describe('ScorecardModel', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await createTestServer({
      models: [{ name: 'scorecard', model: ScorecardModel, modelPath: MODEL_PATH }],
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('approves a low-risk applicant', async () => {
    const res = await server.infer('scorecard', applicants([APPROVE]));
    const score = output(res, 'score');
    expect(score).toMatchObject({ datatype: 'FP32', shape: [1] });
    expect(score.data[0] as number).toBeCloseTo(0.93394, 4);
    expect(output(res, 'decision')).toMatchObject({ datatype: 'BYTES', shape: [1], data: ['approve'] });
    expect(res.parameters).toMatchObject({ threshold: 0.5 });
  });

  it('declines a high-risk applicant', async () => {
    const res = await server.infer('scorecard', applicants([DECLINE]));
    expect(output(res, 'score').data[0] as number).toBeCloseTo(0.01106, 4);
    expect(output(res, 'decision').data).toEqual(['decline']);
  });

  it('scores a batch row by row', async () => {
    const res = await server.infer('scorecard', applicants([APPROVE, DECLINE, BORDERLINE]));
    const score = output(res, 'score').data as number[];
    expect(score).toHaveLength(3);
    [0.93394, 0.01106, 0.76256].forEach((expected, i) => expect(score[i]).toBeCloseTo(expected, 4));
    expect(output(res, 'decision').data).toEqual(['approve', 'decline', 'approve']);
  });

  it('refuses an applicant under 18 with a 400 naming the row and the field', async () => {
    const err: unknown = await server
      .infer('scorecard', applicants([APPROVE, DECLINE, [17, 20000, 0, true]]))
      .then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ status: 400 });
    const message = (err as { message: string }).message;
    expect(message).toContain('row 2');
    expect(message).toContain('age');
    expect(message).toContain('must not be less than 18');
  });

  it('refuses a negative income with a 400', async () => {
    await expect(server.infer('scorecard', applicants([[40, -1, 0, true]]))).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('row 0: income must not be less than 0'),
    });
  });

  it('explains each feature’s share of the logit', async () => {
    const res = await server.explain('scorecard', applicants([APPROVE]));
    const contributions = output(res, 'contributions');
    expect(contributions).toMatchObject({ datatype: 'FP32', shape: [1, 4] });
    const c = contributions.data as number[];
    [0.81, 0.5 * Math.log(61), -2.5 / 6, 1.2].forEach((expected, j) => expect(c[j]).toBeCloseTo(expected, 5));
    const intercept = res.parameters?.intercept as number;
    const logit = c.reduce((z, v) => z + v, intercept);
    expect(1 / (1 + Math.exp(-logit))).toBeCloseTo(output(res, 'score').data[0] as number, 5);
    expect(output(res, 'decision').data).toEqual(['approve']);
  });

  it('serves the coefficients as the custom operation "weights"', async () => {
    await expect(server.operation('scorecard', 'weights', {})).resolves.toEqual({
      intercept: -1,
      coefficients: { age_decades: 0.3, log_income: 0.5, debt_to_income: -2.5, employed: 1.2 },
    });
  });

  it('serves the threshold as the custom operation "threshold"', async () => {
    await expect(server.operation('scorecard', 'threshold', {})).resolves.toEqual({ threshold: 0.5 });
  });

  it('answers 404 for a method that is not a declared operation', async () => {
    await expect(server.operation('scorecard', 'load', {})).rejects.toMatchObject({ status: 404 });
    await expect(server.operation('scorecard', 'describeWeights', {})).rejects.toMatchObject({ status: 404 });
  });

  describe('with the threshold parameter set to 0.9', () => {
    let strict: TestServer;

    beforeAll(async () => {
      strict = await createTestServer({
        models: [{ name: 'scorecard', model: ScorecardModel, modelPath: MODEL_PATH, parameters: { threshold: 0.9 } }],
      });
    });

    afterAll(async () => {
      await strict?.close();
    });

    it('declines an applicant the default threshold approves', async () => {
      const lenient = await server.infer('scorecard', applicants([BORDERLINE]));
      const res = await strict.infer('scorecard', applicants([BORDERLINE, APPROVE]));
      expect(output(lenient, 'decision').data).toEqual(['approve']);
      expect(output(res, 'decision').data).toEqual(['decline', 'approve']);
      expect(res.parameters).toMatchObject({ threshold: 0.9 });
      await expect(strict.operation('scorecard', 'threshold', {})).resolves.toEqual({ threshold: 0.9 });
    });
  });
});
