import { validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { ErrorCode, ModelServer, ModelServerError, Operation } from 'nest-model-server';
import type {
  Datatype,
  InferenceRequest,
  InferenceResult,
  RequestContext,
  TensorDataMap,
  TensorSpec,
} from 'nest-model-server';
import { ScorecardApplicantDto } from './scorecard-applicant.dto';

/** The model's features, in the order of the `contributions` columns of `/explain`. */
export const SCORECARD_FEATURES = ['age_decades', 'log_income', 'debt_to_income', 'employed'] as const;

/** One of {@link SCORECARD_FEATURES}. */
export type ScorecardFeature = (typeof SCORECARD_FEATURES)[number];

/** One applicant's normalized features, as the logistic regression consumes them. */
export type ScorecardFeatures = Record<ScorecardFeature, number>;

/** The coefficients of the scorecard, as `model/weights.json` holds them. */
export interface ScorecardWeights {
  intercept: number;
  coefficients: Record<ScorecardFeature, number>;
}

/** Debt-to-income ratios above this count as this: one extreme applicant should not dominate the logit. */
const MAX_DEBT_TO_INCOME = 5;

/** Validation errors listed in one 400 answer, at most. */
const MAX_REPORTED_ROWS = 5;

/**
 * Turns one applicant into the regression's features:
 * `age_decades = (age - 18) / 10`, `log_income = ln(1 + income / 1000)`,
 * `debt_to_income = min(debt / income, 5)` and `employed = 1 | 0`.
 */
export function scorecardFeatures(applicant: ScorecardApplicantDto): ScorecardFeatures {
  const { age, income, debt, employed } = applicant;
  const ratio = income > 0 ? debt / income : debt > 0 ? MAX_DEBT_TO_INCOME : 0;
  return {
    age_decades: (age - 18) / 10,
    log_income: Math.log1p(Math.max(income, 0) / 1000),
    debt_to_income: Math.min(ratio, MAX_DEBT_TO_INCOME),
    employed: employed ? 1 : 0,
  };
}

/**
 * A credit scorecard: a logistic regression with fixed, documented coefficients (`model/weights.json`)
 * giving each applicant's probability of repaying a loan, and an approve/decline decision against
 * the configured `threshold` parameter (0.5 by default).
 *
 * It exists to show every hook of a model, one request flowing through them in order:
 * - `load` reads and checks the weights and the threshold;
 * - `preprocess` turns the four input tensors into applicant rows and normalized features, kept in `ctx.state`;
 * - `validate` checks each applicant with a class-validator DTO ({@link ScorecardApplicantDto});
 * - `predict` scores the features from `ctx.state` and records the request's mean score;
 * - `explain` answers each feature's share of the logit;
 * - `postprocess` adds the decision and reports the threshold in the response parameters;
 * - `unload` drops the weights;
 * - two custom operations, `weights` and `threshold`, describe the model as plain JSON.
 */
export class ScorecardModel extends ModelServer {
  platform = 'logistic-regression';

  inputs: TensorSpec[] = [
    { name: 'age', datatype: 'INT32', shape: [-1] },
    { name: 'income', datatype: 'FP64', shape: [-1] },
    { name: 'debt', datatype: 'FP64', shape: [-1] },
    { name: 'employed', datatype: 'BOOL', shape: [-1] },
  ];

  outputs: TensorSpec[] = [
    { name: 'score', datatype: 'FP32', shape: [-1] },
    { name: 'decision', datatype: 'BYTES', shape: [-1] },
  ];

  private weights: ScorecardWeights | undefined;
  private threshold = 0.5;

  async load(): Promise<void> {
    const file = await this.context.readJson<Partial<ScorecardWeights>>('weights.json');
    this.weights = checkWeights(file);
    const threshold = Number(this.context.getParam<unknown>('threshold', 0.5));
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new Error(`the 'threshold' parameter must be a number between 0 and 1, got ${String(threshold)}`);
    }
    this.threshold = threshold;
    this.context.logger.log(`scorecard loaded (threshold ${threshold})`);
  }

  /** Reads the four input tensors into applicant rows and their normalized features. */
  preprocess(request: InferenceRequest, ctx: RequestContext): InferenceRequest | Promise<InferenceRequest> {
    if (ctx.op !== 'infer' && ctx.op !== 'explain') return request;
    const age = column(request, 'age', 'INT32');
    const income = column(request, 'income', 'FP64');
    const debt = column(request, 'debt', 'FP64');
    const employed = column(request, 'employed', 'BOOL');
    const n = age.length;
    if (income.length !== n || debt.length !== n || employed.length !== n) {
      throw new ModelServerError(
        ErrorCode.InvalidRequest,
        `age, income, debt and employed must have one element per applicant; got ` +
          `${age.length}, ${income.length}, ${debt.length} and ${employed.length}`,
      );
    }
    const applicants: ScorecardApplicantDto[] = [];
    for (let i = 0; i < n; i++) {
      applicants.push(
        ScorecardApplicantDto.of({ age: age[i], income: income[i], debt: debt[i], employed: employed[i] !== 0 }),
      );
    }
    ctx.state.applicants = applicants;
    ctx.state.features = applicants.map(scorecardFeatures);
    return request;
  }

  /** Checks every applicant against {@link ScorecardApplicantDto}; any violation answers 400. */
  validate(_request: InferenceRequest, ctx: RequestContext): void {
    if (ctx.op !== 'infer' && ctx.op !== 'explain') return;
    const problems: string[] = [];
    applicantsOf(ctx).forEach((applicant, row) => {
      const errors = validateSync(applicant);
      if (errors.length > 0) problems.push(`row ${row}: ${describe(errors)}`);
    });
    if (problems.length > 0) {
      const more = problems.length > MAX_REPORTED_ROWS ? ` (and ${problems.length - MAX_REPORTED_ROWS} more rows)` : '';
      throw new ModelServerError(ErrorCode.InvalidRequest, problems.slice(0, MAX_REPORTED_ROWS).join('; ') + more);
    }
  }

  /** Scores the features `preprocess` left in `ctx.state`: the probability of repayment per applicant. */
  predict(_request: InferenceRequest, ctx: RequestContext): InferenceResult {
    const features = featuresOf(ctx);
    const score = Float32Array.from(features, (f) => sigmoid(this.logit(f)));
    if (score.length > 0) {
      ctx.setMetric('mean_score', score.reduce((sum, s) => sum + s, 0) / score.length);
    }
    return { outputs: [{ name: 'score', datatype: 'FP32', shape: [score.length], data: score }] };
  }

  /**
   * Each feature's term of the logit (`coefficient * feature`), FP32 `[N, 4]` in the order of
   * {@link SCORECARD_FEATURES}; with the intercept (in the response parameters) they add up to the
   * score's logit.
   */
  explain(_request: InferenceRequest, ctx: RequestContext): InferenceResult {
    const { intercept, coefficients } = this.loadedWeights();
    const features = featuresOf(ctx);
    const k = SCORECARD_FEATURES.length;
    const contributions = new Float32Array(features.length * k);
    features.forEach((f, i) => {
      SCORECARD_FEATURES.forEach((name, j) => {
        contributions[i * k + j] = coefficients[name] * f[name];
      });
    });
    const score = Float32Array.from(features, (f) => sigmoid(this.logit(f)));
    return {
      outputs: [
        { name: 'contributions', datatype: 'FP32', shape: [features.length, k], data: contributions },
        { name: 'score', datatype: 'FP32', shape: [score.length], data: score },
      ],
      parameters: { intercept, features: [...SCORECARD_FEATURES] },
    };
  }

  /** Adds the `decision` output ("approve" when score ≥ threshold) and reports the threshold. */
  postprocess(result: InferenceResult, ctx: RequestContext): InferenceResult {
    const scoreTensor = result.outputs.find((t) => t.name === 'score');
    if (scoreTensor === undefined) return result;
    const score = scoreTensor.data as Float32Array;
    const decision = Array.from(score, (s) => (s >= this.threshold ? 'approve' : 'decline'));
    if (score.length > 0) {
      ctx.setMetric('approval_rate', decision.filter((d) => d === 'approve').length / score.length);
    }
    return {
      outputs: [...result.outputs, { name: 'decision', datatype: 'BYTES', shape: [decision.length], data: decision }],
      parameters: { ...result.parameters, threshold: this.threshold },
    };
  }

  unload(): void {
    this.weights = undefined;
    this.context.logger.log('scorecard unloaded');
  }

  /** `POST /v2/models/scorecard/weights`: the intercept and coefficients, as plain JSON. */
  @Operation('weights')
  describeWeights(): ScorecardWeights {
    const { intercept, coefficients } = this.loadedWeights();
    return { intercept, coefficients: { ...coefficients } };
  }

  /** `POST /v2/models/scorecard/threshold`: the score at and above which an applicant is approved. */
  @Operation('threshold')
  describeThreshold(): { threshold: number } {
    return { threshold: this.threshold };
  }

  private logit(f: ScorecardFeatures): number {
    const { intercept, coefficients } = this.loadedWeights();
    return SCORECARD_FEATURES.reduce((z, name) => z + coefficients[name] * f[name], intercept);
  }

  private loadedWeights(): ScorecardWeights {
    if (this.weights === undefined) throw new Error('the scorecard weights are not loaded');
    return this.weights;
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Checks that `weights.json` has a finite intercept and one finite coefficient per feature. */
function checkWeights(file: Partial<ScorecardWeights>): ScorecardWeights {
  const { intercept, coefficients } = file;
  if (typeof intercept !== 'number' || !Number.isFinite(intercept)) {
    throw new Error('weights.json: intercept must be a finite number');
  }
  if (typeof coefficients !== 'object' || coefficients === null) {
    throw new Error('weights.json: coefficients must be an object');
  }
  const checked = {} as Record<ScorecardFeature, number>;
  for (const name of SCORECARD_FEATURES) {
    const value: unknown = coefficients[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`weights.json: coefficients.${name} must be a finite number`);
    }
    checked[name] = value;
  }
  return { intercept, coefficients: checked };
}

/** The input `name`, which must be a vector of `datatype`. */
function column<D extends Datatype>(request: InferenceRequest, name: string, datatype: D): TensorDataMap[D] {
  const tensor = request.inputs.find((t) => t.name === name);
  if (tensor === undefined) {
    throw new ModelServerError(ErrorCode.InvalidRequest, `missing input '${name}' (${datatype} [N])`);
  }
  if (tensor.datatype !== datatype || tensor.shape.length !== 1) {
    throw new ModelServerError(
      ErrorCode.InvalidRequest,
      `input '${name}' must be ${datatype} [N], got ${tensor.datatype} [${tensor.shape.join(', ')}]`,
    );
  }
  return tensor.data as TensorDataMap[D];
}

function applicantsOf(ctx: RequestContext): ScorecardApplicantDto[] {
  const applicants = ctx.state.applicants;
  if (!Array.isArray(applicants)) throw new Error('preprocess did not leave the applicants in ctx.state');
  return applicants as ScorecardApplicantDto[];
}

function featuresOf(ctx: RequestContext): ScorecardFeatures[] {
  const features = ctx.state.features;
  if (!Array.isArray(features)) throw new Error('preprocess did not leave the features in ctx.state');
  return features as ScorecardFeatures[];
}

/** "age must not be less than 18, income must not be less than 0". */
function describe(errors: ValidationError[]): string {
  return errors.flatMap((e) => Object.values(e.constraints ?? {})).join(', ');
}
