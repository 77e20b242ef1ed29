import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import { ModelRouter } from './model-router.base';
import type { RouterMember } from './router-member.interface';
import type { WeightRule } from './router-members.util';
import { seededRandom, type RandomSource } from './seeded-random.util';

/**
 * A weighted traffic split (canary): each request goes to one member, chosen at random in proportion to the
 * members' weights, and is answered with that member's outputs; `parameters.router_member` names the member that
 * served. A member of weight 0 gets no share of the traffic but stays reachable by name
 * (`/v2/models/:router/:member/infer`), e.g. a release candidate under test.
 *
 * Parameters: `members` (`{ model, version?, name?, weight }`, weights ≥ 0, default 1) and `seed` (an integer: the
 * same sequence of choices on every start, for tests; default: unseeded).
 *
 * @example
 * - name: iris-canary
 *   router: TrafficSplit
 *   parameters:
 *     members:
 *       - { model: iris, version: "1", name: stable, weight: 90 }
 *       - { model: iris, version: "2", name: canary, weight: 10 }
 * @publicApi
 */
export class TrafficSplit extends ModelRouter {
  platform = 'traffic-split';
  protected weightRule: WeightRule = 'non-negative';
  private random: RandomSource = Math.random;
  /** Cumulative weights, normalized to end at 1. */
  private thresholds = new Float64Array(0);

  protected parameterNames(): readonly string[] {
    return ['seed'];
  }

  protected configure(): void {
    const seed = this.context.getParam<unknown>('seed');
    if (seed !== undefined) {
      if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
        throw new Error(`router '${this.context.name}': parameters.seed must be an integer, got ${JSON.stringify(seed)}`);
      }
      this.random = seededRandom(seed);
    } else {
      this.random = Math.random;
    }
    const members = this.members;
    let total = 0;
    for (const m of members) total += m.weight;
    this.thresholds = new Float64Array(members.length);
    let acc = 0;
    for (let i = 0; i < members.length; i++) {
      acc += members[i].weight;
      this.thresholds[i] = acc / total;
    }
  }

  /** The member the next request goes to. */
  pick(): RouterMember {
    const members = this.members;
    const r = this.random();
    for (let i = 0; i < members.length; i++) {
      if (r < this.thresholds[i] && members[i].weight > 0) return members[i];
    }
    // Rounding may leave r at or above the last threshold: the last member with a share takes it.
    for (let i = members.length - 1; i >= 0; i--) if (members[i].weight > 0) return members[i];
    return members[members.length - 1];
  }

  protected route(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    return this.forwardTo(this.pick(), request, ctx);
  }
}
