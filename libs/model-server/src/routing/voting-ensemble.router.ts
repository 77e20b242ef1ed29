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

/**
 * MLRun's `VotingEnsemble`: sends each request to every member concurrently and combines their outputs
 * element by element: classification by (weighted) majority vote, ties going to the value voted first in member
 * order; regression by (weighted) mean.
 *
 * Parameters (in the model's config):
 * - `members`: model names or `{ model, version?, name?, weight? }` (weights > 0, default 1);
 * - `voteType`: `auto` (default: floats averaged, integers / booleans / strings voted), `classification`, `regression`;
 * - `voteOutputs`: the outputs to combine (default: every output all answering members produce);
 * - `onMemberError`: `fail` (default: the request fails with the member's status) or `exclude` (answer without it,
 *   reported in `parameters.failed_members`; when every member fails, the first failure is the answer);
 * - `returnMembers`: always add each member's own answer to `parameters.members` (a request can ask for it with
 *   the parameter `"return_members": true`).
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

  protected configure(): void {
    const name = this.context.name;
    this.voteType = enumParam(this.context.getParam('voteType'), VOTE_TYPES, 'auto', 'voteType', name);
    this.onMemberError = enumParam(this.context.getParam('onMemberError'), POLICIES, 'fail', 'onMemberError', name);
    this.returnMembers = booleanParam(this.context.getParam('returnMembers'), false, 'returnMembers', name);
    const outputs = this.context.getParam<unknown>('voteOutputs');
    if (outputs !== undefined) {
      if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((o) => typeof o === 'string' && o !== '')) {
        throw new Error(`router '${name}': parameters.voteOutputs must be a non-empty list of output names`);
      }
      this.voteOutputs = outputs as string[];
    }
  }

  protected async route(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const result = await this.fanOut(request, ctx);
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
      ballots[i] = { member: member.name, tensor, weight: member.weight };
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
