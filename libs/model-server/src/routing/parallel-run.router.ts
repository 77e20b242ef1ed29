import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { MaybePromise } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { OutputTensor } from '../model/tensor.interface';
import { ModelRouter } from './model-router.base';
import type { MemberErrorPolicy, MemberResponse } from './router-member.interface';
import { booleanParam, enumParam } from './router-members.util';
import { outputClash } from '../errors';

/**
 * How {@link ParallelRun} merges its members' outputs: `union` keeps every output under its own name (two members
 * producing the same name is an error), `prefix` names each output `<member>.<output>`, `update` is MLRun's dict
 * update: a later member's output (in member order) replaces an earlier one of the same name.
 *
 * @publicApi
 */
export type MergeStrategy = 'union' | 'prefix' | 'update';

const STRATEGIES: readonly MergeStrategy[] = ['union', 'prefix', 'update'];
/** MLRun's executor types: accepted so MLRun configs load; members always run concurrently in-process. */
const EXECUTORS: readonly string[] = ['thread', 'process', 'array'];
const POLICIES: readonly MemberErrorPolicy[] = ['fail', 'exclude'];

/**
 * MLRun's `ParallelRun`: sends each request to every member concurrently and merges their outputs into one
 * response. Override {@link merge} for a merge of your own (e.g. concatenating features).
 *
 * Parameters: `members` (model names or `{ model, version?, name? }`), `merge` (`union`, the default, `prefix`, or
 * `update`, MLRun's merge and the default when `extend_event` is given), `extend_event` (MLRun: the answer also
 * carries the request's inputs, as outputs under their names), `onMemberError` (`fail`, the default, or `exclude`:
 * answer without the failed members, listed in `parameters.failed_members`), `executor_type` (MLRun's; accepted,
 * members always run concurrently in-process).
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
  private extendEvent = false;

  protected parameterNames(): readonly string[] {
    return ['merge', 'onMemberError', 'extend_event', 'executor_type'];
  }

  protected configure(): void {
    const name = this.context.name;
    this.extendEvent = booleanParam(this.context.getParam('extend_event'), false, 'extend_event', name);
    // MLRun's configs (extend_event given) merge as MLRun does unless told otherwise.
    const fallback: MergeStrategy = this.context.getParam('extend_event') !== undefined ? 'update' : 'union';
    this.strategy = enumParam(this.context.getParam('merge'), STRATEGIES, fallback, 'merge', name);
    this.onMemberError = enumParam(this.context.getParam('onMemberError'), POLICIES, 'fail', 'onMemberError', name);
    enumParam(this.context.getParam('executor_type'), EXECUTORS, 'thread', 'executor_type', name);
  }

  protected async route(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const result = await this.fanOut(request, ctx);
    this.settle(result, this.onMemberError);
    let merged = await this.merge(result.responses, request, ctx);
    if (this.extendEvent) merged = extendWith(request, merged);
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
        if (other !== undefined && this.strategy === 'update') {
          outputs.splice(outputs.findIndex((o) => o.name === name), 1);
        } else if (other !== undefined) {
          throw outputClash(this.context.name, other, member.name, name);
        }
        producer.set(name, member.name);
        outputs.push({ ...t, name });
      }
    }
    return { outputs };
  }
}

/**
 * MLRun's `extend_event`: the answer starts from the request (its inputs, as outputs under their names), and the
 * merged outputs are added, replacing an input of the same name.
 */
function extendWith(request: InferenceRequest, merged: InferenceResult): InferenceResult {
  const produced = new Set(merged.outputs.map((o) => o.name));
  const inputs: OutputTensor[] = request.inputs.filter((t) => !produced.has(t.name)).map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data }));
  return { ...merged, outputs: [...inputs, ...merged.outputs] };
}
