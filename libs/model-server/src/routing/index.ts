/** `nest-model-server/routing`: models that route to other models (ensembles, parallel runs, traffic splits). */
import 'reflect-metadata';

export { ModelRouter, isModelRouter } from './model-router.base';
export type { FanOutResult } from './model-router.base';
export { VotingEnsemble } from './voting-ensemble.router';
export { ParallelRun } from './parallel-run.router';
export type { MergeStrategy } from './parallel-run.router';
export { TrafficSplit } from './traffic-split.router';
export type { VoteType } from './vote.util';
export type { RouterMemberSpec, RouterMember, MemberResponse, MemberFailure, MemberErrorPolicy } from './router-member.interface';
export type { WeightRule } from './router-members.util';
export type { RandomSource } from './seeded-random.util';
export { ROUTER_MEMBER_PARAMETER, RETURN_MEMBERS_PARAMETER, FAILED_MEMBERS_PARAMETER, MEMBERS_PARAMETER } from './router.constants';
