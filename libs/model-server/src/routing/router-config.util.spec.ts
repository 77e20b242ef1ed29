import { ModelServer } from '../model/model-server';
import { checkRouterMembers, routerClass } from './router-config.util';
import { TrafficSplit } from './traffic-split.router';
import { VotingEnsemble } from './voting-ensemble.router';

class Plain extends ModelServer {
  predict(): { outputs: [] } {
    return { outputs: [] };
  }
}

describe('routerClass', () => {
  it('names the built-in routers', () => {
    expect(routerClass('VotingEnsemble')).toBe(VotingEnsemble);
    expect(() => routerClass('Voting')).toThrow('unknown router "Voting"; the routers are VotingEnsemble, ParallelRun, TrafficSplit');
    expect(() => routerClass('toString')).toThrow(/unknown router/);
  });
});

describe('checkRouterMembers', () => {
  it('finds members that name no configured model or version', () => {
    const problems = checkRouterMembers([
      { name: 'a', model: Plain, versions: [{ version: '1' }] },
      { name: 'b', model: Plain },
      { name: 'ok', model: VotingEnsemble, parameters: { members: ['a', 'b', { model: 'a', version: '1', name: 'a1' }] } },
      { name: 'ghost', model: VotingEnsemble, parameters: { members: ['a', 'zzz'] } },
      { name: 'old', model: TrafficSplit, parameters: { members: [{ model: 'a', version: '7', weight: 0 }, 'b'] } },
      { name: 'flat', model: VotingEnsemble, parameters: { members: [{ model: 'b', version: '1' }] } },
      { name: 'plain', model: Plain, parameters: { members: ['nothing'] } },
    ]);
    expect(Object.fromEntries(problems)).toEqual({
      ghost: "router 'ghost': member 'zzz' calls model 'zzz', which is not configured",
      old: "router 'old': member 'a' calls version '7' of 'a'; its versions are '1'",
      flat: "router 'flat': member 'b' calls version '1' of 'b'; it has no versions",
    });
  });
});
