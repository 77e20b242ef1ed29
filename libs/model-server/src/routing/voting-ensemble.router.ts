import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import type { OutputTensor, Parameters } from '../model/tensor.interface';
import { memberResults } from './member-results.util';
import { ModelRouter, wantsMemberResults } from './model-router.base';
import { MEMBERS_PARAMETER } from './router.constants';
import type { MemberErrorPolicy, MemberResponse } from './router-member.interface';
import { booleanParam, enumParam } from './router-members.util';
import { combineOutput, type Ballot, type VoteType } from './vote.util';

const VOTE_TYPES: readonly VoteType[] = ['auto', 'classification', 'regression'];
const POLICIES: readonly MemberErrorPolicy[] = ['fail', 'exclude'];
/** MLRun's executor types: accepted so MLRun configs load; members always run concurrently in-process. */
const EXECUTORS: readonly string[] = ['thread', 'process', 'array'];

/**
 * MLRun's `VotingEnsemble`: sends each request to every member concurrently and combines their outputs
 * element by element: classification by (weighted) majority vote, ties going to the lowest value (MLRun's lowest
 * class); regression by (weighted) mean.
 *
 * Parameters (in the model's config), MLRun's names beside this framework's:
 * - `members`: model names or `{ model, version?, name?, weight? }` (weights > 0, default 1);
 * - `weights` (MLRun): `{ "<member>": <weight> }`; a member missing from the map weighs 0 (not with member weights);
 * - `voteType` / `vote_type` (MLRun): `auto` (default: floats averaged, integers / booleans / strings voted),
 *   `classification`, `regression`;
 * - `voteOutputs`: the outputs to combine (default: every output all answering members produce);
 *   `prediction_col_name` (MLRun): the one output to combine, answered under that name;
 * - `onMemberError`: `fail` (default: the request fails with the member's status) or `exclude` (answer without it,
 *   reported in `parameters.failed_members`; when every member fails, the first failure is the answer);
 * - `returnMembers`: always add each member's own answer to `parameters.members` (a request can ask for it with
 *   the parameter `"return_members": true`);
 * - `executor_type` (MLRun): accepted for MLRun configs; members always run concurrently in-process here.
 *
 * @example
 * - name: iris-ensemble
 *   router: VotingEnsemble
 *   parameters: { members: [iris, iris-b, { model: iris-c, weight: 2 }] }
 * @publicApi
 */
export class VotingEnsemble extends ModelRouter {
  platform = 'voting-ensemble';
  private voteType: VoteType = 'auto';
  private voteOutputs: readonly string[] | undefined = undefined;
  private onMemberError: MemberErrorPolicy = 'fail';
  private returnMembers = false;
  /** Each member's weight, by member name (MLRun's `weights` map, else the members' own weights). */
  private readonly weights = new Map<string, number>();

  protected parameterNames(): readonly string[] {
    return ['voteType', 'vote_type', 'voteOutputs', 'prediction_col_name', 'weights', 'onMemberError', 'returnMembers', 'executor_type'];
  }

  protected configure(): void {
    const name = this.context.name;
    const camel = this.context.getParam<unknown>('voteType');
    const snake = this.context.getParam<unknown>('vote_type');
    if (camel !== undefined && snake !== undefined) throw new Error(`router '${name}': give parameters.voteType or parameters.vote_type, not both`);
    this.voteType = enumParam(camel ?? snake, VOTE_TYPES, 'auto', camel !== undefined ? 'voteType' : 'vote_type', name);
    this.onMemberError = enumParam(this.context.getParam('onMemberError'), POLICIES, 'fail', 'onMemberError', name);
    this.returnMembers = booleanParam(this.context.getParam('returnMembers'), false, 'returnMembers', name);
    enumParam(this.context.getParam('executor_type'), EXECUTORS, 'thread', 'executor_type', name);
    const outputs = this.context.getParam<unknown>('voteOutputs');
    const column = this.context.getParam<unknown>('prediction_col_name');
    if (outputs !== undefined && column !== undefined) throw new Error(`router '${name}': give parameters.voteOutputs or parameters.prediction_col_name, not both`);
    this.voteOutputs = undefined;
    if (outputs !== undefined) {
      if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((o) => typeof o === 'string' && o !== '')) {
        throw new Error(`router '${name}': parameters.voteOutputs must be a non-empty list of output names`);
      }
      this.voteOutputs = outputs as string[];
    }
    if (column !== undefined) {
      if (typeof column !== 'string' || column === '') throw new Error(`router '${name}': parameters.prediction_col_name must be an output name`);
      this.voteOutputs = [column];
    }
    this.readWeights(this.context.getParam<unknown>('weights'));
  }

  /** MLRun's weights map (a member missing from it weighs 0), or the members' own weights. */
  private readWeights(map: unknown): void {
    const name = this.context.name;
    this.weights.clear();
    if (map === undefined) {
      for (const m of this.members) this.weights.set(m.name, m.weight);
      return;
    }
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`router '${name}': parameters.weights must be a map { "<member>": <weight> }`);
    if (this.members.some((m) => m.weight !== 1)) throw new Error(`router '${name}': give weights in parameters.weights or on the members, not both`);
    const names = this.members.map((m) => m.name);
    for (const [member, weight] of Object.entries(map as Record<string, unknown>)) {
      if (!names.includes(member)) throw new Error(`router '${name}': parameters.weights names '${member}', which is not a member (${names.map((n) => `'${n}'`).join(', ')})`);
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
        throw new Error(`router '${name}': parameters.weights.${member} must be a non-negative number, got ${JSON.stringify(weight)}`);
      }
    }
    for (const m of this.members) this.weights.set(m.name, ((map as Record<string, number>)[m.name] as number | undefined) ?? 0);
    if (![...this.weights.values()].some((w) => w > 0)) throw new Error(`router '${name}': parameters.weights gives every member weight 0`);
  }

  protected async route(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    // Members of weight 0 cannot change a vote: they are not called.
    const voters = this.members.filter((m) => (this.weights.get(m.name) ?? 0) > 0);
    const result = await this.fanOut(request, ctx, voters);
    this.settle(result, this.onMemberError);
    const { responses, failures } = result;
    const names = this.voteOutputs ?? commonOutputs(responses);
    const outputs: OutputTensor[] = new Array(names.length);
    for (let k = 0; k < names.length; k++) outputs[k] = combineOutput(names[k], this.ballots(names[k], responses), this.voteType, this.context.name);
    let parameters: Parameters | undefined = this.failureParameters(failures);
    if (this.returnMembers || wantsMemberResults(request)) {
      parameters = { ...parameters, [MEMBERS_PARAMETER]: memberResults(responses, failures) };
    }
    return parameters === undefined ? { outputs } : { outputs, parameters };
  }

  private ballots(name: string, responses: readonly MemberResponse[]): Ballot[] {
    const ballots: Ballot[] = new Array(responses.length);
    for (let i = 0; i < responses.length; i++) {
      const { member, response } = responses[i];
      const tensor = response.outputs.find((t) => t.name === name);
      if (tensor === undefined) {
        throw new Error(`member '${member.name}' gave no output '${name}' (it gave ${response.outputs.map((t) => `'${t.name}'`).join(', ')})`);
      }
      ballots[i] = { member: member.name, tensor, weight: this.weights.get(member.name) ?? member.weight };
    }
    return ballots;
  }
}

/** The outputs every answering member produced, in the first member's order. */
function commonOutputs(responses: readonly MemberResponse[]): string[] {
  const names: string[] = [];
  for (const t of responses[0].response.outputs) {
    if (responses.every((r) => r.response.outputs.some((o) => o.name === t.name))) names.push(t.name);
  }
  return names;
}
