import { parseRouterMembers } from './router-members.util';

describe('parseRouterMembers', () => {
  it('reads model names and member objects', () => {
    expect(parseRouterMembers(['a', { model: 'b', version: 2, name: 'canary', weight: 0.5 }], 'r', 'positive')).toEqual([
      { name: 'a', model: 'a', version: undefined, weight: 1, callOptions: undefined },
      { name: 'canary', model: 'b', version: '2', weight: 0.5, callOptions: { version: '2' } },
    ]);
  });

  it.each([
    [undefined, "router 'r': parameters.members must be a non-empty list of member models, got nothing"],
    [[], "router 'r': parameters.members must be a non-empty list of member models, got []"],
    [['a', 'a'], "router 'r': two members are named 'a'; give one of them another \"name\""],
    [['r'], "router 'r': members[0] is the router itself; a router cannot be its own member"],
    [[{ model: 'a', wieght: 2 }], "router 'r': members[0] has an unknown key 'wieght' (a member takes model, version, name and weight)"],
    [[{ model: 'a', weight: 0 }], "router 'r': members[0].weight must be a positive number, got 0"],
    [['a b'], "router 'r': members[0] 'a b' is not a model name"],
    [[42], "router 'r': members[0] must be a model name or an object { model, version?, name?, weight? }"],
  ])('refuses %j', (members, message) => {
    expect(() => parseRouterMembers(members, 'r', 'positive')).toThrow(message);
  });

  it('lets traffic weights be zero, but not all of them', () => {
    expect(parseRouterMembers([{ model: 'a', weight: 0 }, 'b'], 'r', 'non-negative').map((m) => m.weight)).toEqual([0, 1]);
    expect(() => parseRouterMembers([{ model: 'a', weight: 0 }], 'r', 'non-negative')).toThrow('every member has weight 0');
  });
});
