import { ModelServerError } from '../errors/model-server.error';
import { ByteStrings } from '../model/byte-strings';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { ModelCallRequest } from '../model/model-caller.interface';
import { ModelServer, type MaybePromise } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { Parameters, Tensor } from '../model/tensor.interface';
import { FAILED_MEMBERS_PARAMETER, RETURN_MEMBERS_PARAMETER, ROUTER_MEMBER_PARAMETER } from './router.constants';
import type { MemberErrorPolicy, MemberFailure, MemberResponse, RouterMember } from './router-member.interface';
import { parseRouterMembers, type WeightRule } from './router-members.util';
import { asModelError, invalidRequest, memberFailed, memberNotFound } from '../errors';

const ROUTER_BRAND = Symbol.for('nest-model-server:router');

/** The members' answers to one fanned-out request, in member order. @publicApi */
export interface FanOutResult {
  readonly responses: MemberResponse[];
  readonly failures: MemberFailure[];
}

/**
 * The base of routers: models that answer by calling other models (their members) in-process, through the
 * data plane (`ctx.infer`), so every member call gets the same checks, hooks, monitoring and deadline as a
 * client's request. A router is configured like any model, its members in `parameters.members`.
 *
 * A request carrying the parameter `router_member` (what `POST /v2/models/:router/:member/infer` sends) goes
 * to that member alone; any other request goes to {@link route}. Subclasses that override `load` must call
 * `await super.load()`; subclass options are read in {@link configure}.
 *
 * @publicApi
 */
export abstract class ModelRouter extends ModelServer {
  platform = 'router';
  /** How member weights are read; traffic splits allow 0. */
  protected weightRule: WeightRule = 'positive';
  private memberList: readonly RouterMember[] = [];
  private readonly byName = new Map<string, RouterMember>();

  constructor() {
    super();
    Object.defineProperty(this, ROUTER_BRAND, { value: true });
  }

  /** The members, in configured order (available from `load` on). */
  get members(): readonly RouterMember[] {
    return this.memberList;
  }

  /**
   * The parameters the router reads besides `members`: any other is a load error naming it, so a misspelt or
   * foreign option is never silently ignored. A subclass that reads parameters of its own adds their names.
   */
  protected parameterNames(): readonly string[] {
    return [];
  }

  /** Reads and checks the members, then the router's own options ({@link configure}). */
  async load(): Promise<void> {
    const known = ['members', ...this.parameterNames()];
    for (const key of Object.keys(this.context.parameters)) {
      if (!known.includes(key)) {
        throw new Error(`router '${this.context.name}': unknown parameter '${key}'; a ${this.constructor.name} takes ${known.map((k) => `'${k}'`).join(', ')}`);
      }
    }
    this.memberList = parseRouterMembers(this.context.getParam('members'), this.context.name, this.weightRule);
    this.byName.clear();
    for (const m of this.memberList) this.byName.set(m.name, m);
    await this.configure();
  }

  /** Reads the router's own parameters; throw to fail the load with a message. */
  protected configure(): MaybePromise<void> {}

  /** Answers a request that names no member. */
  protected abstract route(request: InferenceRequest, ctx: RequestContext): MaybePromise<InferenceResult>;

  predict(request: InferenceRequest, ctx: RequestContext): MaybePromise<InferenceResult> {
    const pinned = request.parameters?.[ROUTER_MEMBER_PARAMETER];
    if (pinned !== undefined) return this.forwardTo(this.member(pinned), request, ctx);
    return this.route(request, ctx);
  }

  /** The member named `name`, or a 404 listing the members. */
  member(name: unknown): RouterMember {
    if (typeof name !== 'string') throw invalidRequest(`parameter '${ROUTER_MEMBER_PARAMETER}' must be a member name`);
    const found = this.byName.get(name);
    if (found === undefined) {
      throw memberNotFound(this.context.name, name, this.memberList.map((m) => m.name));
    }
    return found;
  }

  /** Sends the request to one member and answers with its outputs; `parameters.router_member` names it. */
  protected async forwardTo(member: RouterMember, request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const response = await ctx.infer(member.model, forwardRequest(request, forwardedParameters(request.parameters), false), member.callOptions);
    return { outputs: response.outputs, parameters: { ...response.parameters, [ROUTER_MEMBER_PARAMETER]: member.name } };
  }

  /**
   * Sends the request to `members` (default: all) concurrently and waits for every answer. Each member gets its
   * own copy of the tensors, so a member that changes its input in place cannot disturb another.
   */
  protected async fanOut(request: InferenceRequest, ctx: RequestContext, members: readonly RouterMember[] = this.memberList): Promise<FanOutResult> {
    const parameters = forwardedParameters(request.parameters);
    // Every copy is made before the first member runs: a member's synchronous hooks run inside ctx.infer.
    const calls = new Array<ModelCallRequest>(members.length);
    for (let i = 0; i < members.length; i++) calls[i] = forwardRequest(request, parameters, i > 0);
    const pending = new Array<Promise<MemberResponse['response']>>(members.length);
    for (let i = 0; i < members.length; i++) pending[i] = ctx.infer(members[i].model, calls[i], members[i].callOptions);
    const settled = await Promise.allSettled(pending);
    const responses: MemberResponse[] = [];
    const failures: MemberFailure[] = [];
    for (let i = 0; i < settled.length; i++) {
      const s = settled[i];
      if (s.status === 'fulfilled') responses.push({ member: members[i], response: s.value });
      else failures.push({ member: members[i], error: asModelError(s.reason) });
    }
    return { responses, failures };
  }

  /**
   * Applies the member-error policy: with `fail`, or when no member answered, the first failure (in member order)
   * fails the request with its own status; with `exclude`, failures are logged and the answer goes on without them.
   */
  protected settle(result: FanOutResult, policy: MemberErrorPolicy): void {
    const { failures, responses } = result;
    if (failures.length === 0) return;
    if (policy === 'fail' || responses.length === 0) throw this.memberError(failures[0]);
    for (const f of failures) this.context.logger.warn(`member '${f.member.name}' left out: ${f.error.message}`);
  }

  /** The response parameters that report left-out members (`failed_members`), or undefined when none failed. */
  protected failureParameters(failures: readonly MemberFailure[]): Parameters | undefined {
    if (failures.length === 0) return undefined;
    const report: Record<string, string> = {};
    for (const f of failures) report[f.member.name] = f.error.message;
    return { [FAILED_MEMBERS_PARAMETER]: report };
  }

  private memberError(failure: MemberFailure): ModelServerError {
    const { member, error } = failure;
    return memberFailed(this.context.name, member.name, error);
  }
}

/** True when `value` is a {@link ModelRouter} (also across copies of the library). @publicApi */
export function isModelRouter(value: unknown): value is ModelRouter {
  return value instanceof ModelRouter || (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ROUTER_BRAND] === true);
}

/** True when the request asks for every member's answer (`"return_members": true`). @internal */
export function wantsMemberResults(request: InferenceRequest): boolean {
  return request.parameters?.[RETURN_MEMBERS_PARAMETER] === true;
}

/** The request's parameters without the router's own keys (the same object when it has none of them). */
function forwardedParameters(parameters: Parameters | undefined): Parameters | undefined {
  if (parameters === undefined) return undefined;
  if (!(ROUTER_MEMBER_PARAMETER in parameters) && !(RETURN_MEMBERS_PARAMETER in parameters)) return parameters;
  const rest: Parameters = {};
  let any = false;
  for (const key of Object.keys(parameters)) {
    if (key === ROUTER_MEMBER_PARAMETER || key === RETURN_MEMBERS_PARAMETER) continue;
    rest[key] = parameters[key];
    any = true;
  }
  return any ? rest : undefined;
}

function forwardRequest(request: InferenceRequest, parameters: Parameters | undefined, copy: boolean): ModelCallRequest {
  const inputs = copy ? request.inputs.map(copyTensor) : request.inputs;
  const call: ModelCallRequest = { id: request.id, inputs };
  if (parameters !== undefined) call.parameters = parameters;
  return call;
}

function copyTensor(t: Tensor): Tensor {
  const data = t.data instanceof ByteStrings ? ByteStrings.concat([t.data]) : t.data.slice();
  return { ...t, shape: t.shape.slice(), data } as Tensor;
}
