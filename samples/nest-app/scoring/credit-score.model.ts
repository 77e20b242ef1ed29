import { Inject, Injectable, UseGuards } from '@nestjs/common';
import { ByteStrings, ErrorCode, ModelServerError } from 'nest-model-server';
import type { InferenceRequest, RequestContext, TensorSpec } from 'nest-model-server';
import { ScorecardModel } from '../../scorecard/scorecard.model';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApplicantFeaturesRepository, FeatureStoreUnavailableError, type ApplicantFeatures } from './applicant-features.repository';

/** Seconds a client should wait before retrying while the feature database is down. */
export const FEATURE_STORE_RETRY_AFTER_S = 5;

/** Most applicants one request may name. */
const MAX_APPLICANTS = 1000;

/**
 * Credit scoring by applicant id: `preprocess` looks the applicants' stored features up in PostgreSQL through the
 * injected {@link ApplicantFeaturesRepository} and hands them to the scorecard (samples/scorecard), which
 * validates, scores and decides. The class is a Nest provider: the scoring module's injector builds it, so a
 * test swaps the repository for a double.
 *
 * - an id that is not stored answers 404 naming it;
 * - a database that does not answer answers 503 with `Retry-After` (the server stays up, health stays green);
 * - requests need an API key (`ApiKeyGuard`).
 */
@Injectable()
@UseGuards(ApiKeyGuard)
export class CreditScoreModel extends ScorecardModel {
  platform = 'scorecard+postgresql';

  inputs: TensorSpec[] = [{ name: 'applicant_id', datatype: 'BYTES', shape: [-1] }];

  constructor(@Inject(ApplicantFeaturesRepository) private readonly features: ApplicantFeaturesRepository) {
    super();
  }

  async preprocess(request: InferenceRequest, ctx: RequestContext): Promise<InferenceRequest> {
    if (ctx.op !== 'infer' && ctx.op !== 'explain') return request;
    const ids = applicantIds(request);
    let found: Map<string, ApplicantFeatures>;
    try {
      found = await this.features.findMany(ids);
    } catch (err) {
      if (err instanceof FeatureStoreUnavailableError) {
        throw new ModelServerError(ErrorCode.NotReady, 'applicant features are unavailable: the feature database does not answer; retry shortly', {
          retryAfterSeconds: FEATURE_STORE_RETRY_AFTER_S,
          cause: err,
        });
      }
      throw err;
    }
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new ModelServerError(ErrorCode.NotFound, `unknown applicant id${missing.length > 1 ? 's' : ''}: ${missing.map((id) => `'${id}'`).join(', ')}`);
    }
    const rows = ids.map((id) => found.get(id)!);
    const n = rows.length;
    const scored: InferenceRequest = {
      id: request.id,
      parameters: request.parameters,
      inputs: [
        { name: 'age', datatype: 'INT32', shape: [n], data: Int32Array.from(rows, (r) => r.age) },
        { name: 'income', datatype: 'FP64', shape: [n], data: Float64Array.from(rows, (r) => r.income) },
        { name: 'debt', datatype: 'FP64', shape: [n], data: Float64Array.from(rows, (r) => r.debt) },
        { name: 'employed', datatype: 'BOOL', shape: [n], data: Uint8Array.from(rows, (r) => (r.employed ? 1 : 0)) },
      ],
    };
    return super.preprocess(scored, ctx);
  }
}

/** The `applicant_id` tensor's ids as text. */
function applicantIds(request: InferenceRequest): string[] {
  const tensor = request.inputs.find((t) => t.name === 'applicant_id');
  if (tensor === undefined || !(tensor.data instanceof ByteStrings)) {
    throw new ModelServerError(ErrorCode.InvalidRequest, "missing input 'applicant_id' (BYTES [N]: the applicants' ids)");
  }
  if (tensor.data.length > MAX_APPLICANTS) throw new ModelServerError(ErrorCode.InvalidRequest, `at most ${MAX_APPLICANTS} applicants per request`);
  return Array.from(tensor.data, (b) => b.toString('utf8'));
}
