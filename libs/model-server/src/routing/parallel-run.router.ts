import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { MaybePromise } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { OutputTensor } from '../model/tensor.interface';
import { ModelRouter } from './model-router.base';
import type { MemberErrorPolicy, MemberResponse } from './router-member.interface';
import { enumParam } from './router-members.util';
import { outputClash } from '../errors';

/**
 * How {@link ParallelRun} merges its members' outputs: `union` keeps every output under its own name (two members
 * producing the same name is an error), `prefix` names each output `<member>.<output>`.
 *
 * @publicApi
 */
export type MergeStrategy = 'union' | 'prefix';

const STRATEGIES: readonly MergeStrategy[] = ['union', 'prefix'];
const POLICIES: readonly MemberErrorPolicy[] = ['fail', 'exclude'];

/**
 * MLRun's `ParallelRun`: sends each request to every member concurrently and merges their outputs into one
 * response. Override {@link merge} for a merge of your own (e.g. concatenating features).
 *
 * Parameters: `members` (model names or `{ model, version?, name? }`), `merge` (`union`, the default, or `prefix`),
 * `onMemberError` (`fail`, the default, or `exclude`: answer without the failed members, listed in
 * `parameters.failed_members`).
 *
 * @example
 * export class Features extends ParallelRun {
 *   merge(results: readonly MemberResponse[]): InferenceResult {
 *     return { outputs: [{ name: 'all', datatype: 'FP32', data: results.flatMap((r) => [...(r.response.outputs[0].data as Float32Array)]) }] };
 *   }
 * }
 * @publicApi
 */
export class ParallelRun extends ModelRouter {
  platform = 'parallel-run';
  private strategy: MergeStrategy = 'union';
  private onMemberError: MemberErrorPolicy = 'fail';

  protected configure(): void {
    const name = this.context.name;
    this.strategy = enumParam(this.context.getParam('merge'), STRATEGIES, 'union', 'merge', name);
    this.onMemberError = enumParam(this.context.getParam('onMemberError'), POLICIES, 'fail', 'onMemberError', name);
  }

  protected async route(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const result = await this.fanOut(request, ctx);
    this.settle(result, this.onMemberError);
    const merged = await this.merge(result.responses, request, ctx);
    const failed = this.failureParameters(result.failures);
    return failed === undefined ? merged : { ...merged, parameters: { ...merged.parameters, ...failed } };
  }

  /**
   * Merges the answering members' responses (in member order) into the router's result. The default applies the
   * configured strategy; override it to merge otherwise.
   */
  merge(results: readonly MemberResponse[], _request: InferenceRequest, _ctx: RequestContext): MaybePromise<InferenceResult> {
    const outputs: OutputTensor[] = [];
    const producer = new Map<string, string>();
    for (const { member, response } of results) {
      for (const t of response.outputs) {
        const name = this.strategy === 'prefix' ? `${member.name}.${t.name}` : t.name;
        const other = producer.get(name);
        if (other !== undefined) {
          throw outputClash(this.context.name, other, member.name, name);
        }
        producer.set(name, member.name);
        outputs.push({ ...t, name });
      }
    }
    return { outputs };
  }
}
