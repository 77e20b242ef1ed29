import type { ModelCallOptions } from '../model/model-caller.interface';
import type { InferenceResponse } from '../model/inference.interface';
import type { ModelServerError } from '../errors/model-server.error';

/**
 * One member of a router as configured in its `parameters.members`: a model name, or an object.
 *
 * @example
 * members:
 *   - iris                                   # the model 'iris', its default version
 *   - { model: iris, version: "2", name: canary, weight: 10 }
 * @publicApi
 */
export interface RouterMemberSpec {
  /** The member's name inside the router (`/v2/models/:router/:name/infer`, per-member results); default: `model`. */
  name?: string;
  /** The model the member calls. */
  model: string;
  /** The model version it calls (default: that model's default version). */
  version?: string;
  /** Its weight: votes of a {@link VotingEnsemble} (> 0), share of traffic of a {@link TrafficSplit} (≥ 0). Default 1. */
  weight?: number;
}

/** A member after its configuration was checked at load. @publicApi */
export interface RouterMember {
  /** Its name inside the router. */
  readonly name: string;
  /** The model it calls. */
  readonly model: string;
  /** The version it calls, if pinned. */
  readonly version: string | undefined;
  /** Its weight (1 unless configured). */
  readonly weight: number;
  /** The in-process call options, built once. @internal */
  readonly callOptions: ModelCallOptions | undefined;
}

/** A member's answer to one fanned-out request. @publicApi */
export interface MemberResponse {
  readonly member: RouterMember;
  readonly response: InferenceResponse;
}

/** A member that failed one fanned-out request. @publicApi */
export interface MemberFailure {
  readonly member: RouterMember;
  readonly error: ModelServerError;
}

/** What a router does when a member fails: answer without it (`exclude`) or fail the request (`fail`). @publicApi */
export type MemberErrorPolicy = 'exclude' | 'fail';
