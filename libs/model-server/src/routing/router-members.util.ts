import type { RouterMember } from './router-member.interface';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** How a router reads member weights: votes must be positive; traffic shares may be zero (reachable only by name). */
export type WeightRule = 'positive' | 'non-negative';

function fail(router: string, message: string): never {
  throw new Error(`router '${router}': ${message}`);
}

function memberAt(value: unknown, i: number, router: string, rule: WeightRule): RouterMember {
  const where = `members[${i}]`;
  if (typeof value === 'string') {
    if (!NAME.test(value)) fail(router, `${where} '${value}' is not a model name`);
    return { name: value, model: value, version: undefined, weight: 1, callOptions: undefined };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(router, `${where} must be a model name or an object { model, version?, name?, weight? }`);
  }
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (key !== 'model' && key !== 'version' && key !== 'name' && key !== 'weight') {
      fail(router, `${where} has an unknown key '${key}' (a member takes model, version, name and weight)`);
    }
  }
  const model = spec.model;
  if (typeof model !== 'string' || !NAME.test(model)) fail(router, `${where}.model must be a model name`);
  let version: string | undefined;
  if (spec.version !== undefined) {
    if ((typeof spec.version !== 'string' && typeof spec.version !== 'number') || !NAME.test(String(spec.version))) {
      fail(router, `${where}.version must be a version name`);
    }
    version = String(spec.version);
  }
  const name = spec.name === undefined ? model : spec.name;
  if (typeof name !== 'string' || !NAME.test(name)) fail(router, `${where}.name must be 1-128 letters, digits, '_', '.' or '-'`);
  let weight = 1;
  if (spec.weight !== undefined) {
    const w = spec.weight;
    const ok = typeof w === 'number' && Number.isFinite(w) && (rule === 'positive' ? w > 0 : w >= 0);
    if (!ok) fail(router, `${where}.weight must be a ${rule === 'positive' ? 'positive' : 'non-negative'} number, got ${JSON.stringify(w)}`);
    weight = w as number;
  }
  return { name, model, version, weight, callOptions: version === undefined ? undefined : { version } };
}

/**
 * Reads and checks a router's `members` parameter: a non-empty list of model names or
 * `{ model, version?, name?, weight? }` objects, unique names, and no member that is the router itself.
 * Throws an `Error` naming the router and the faulty entry (the router's load then fails with it).
 *
 * @publicApi
 */
export function parseRouterMembers(value: unknown, router: string, rule: WeightRule): RouterMember[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(router, `parameters.members must be a non-empty list of member models, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  }
  const members: RouterMember[] = [];
  for (let i = 0; i < value.length; i++) {
    const member = memberAt(value[i], i, router, rule);
    if (member.model === router) fail(router, `members[${i}] is the router itself; a router cannot be its own member`);
    if (members.some((m) => m.name === member.name)) {
      fail(router, `two members are named '${member.name}'; give one of them another "name"`);
    }
    members.push(member);
  }
  if (rule === 'non-negative' && !members.some((m) => m.weight > 0)) {
    fail(router, 'every member has weight 0, so no request could be routed; give at least one a positive weight');
  }
  return members;
}

/** Reads an optional enumerated parameter, or fails naming the allowed values. @internal */
export function enumParam<T extends string>(value: unknown, allowed: readonly T[], fallback: T, key: string, router: string): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return fail(router, `parameters.${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

/** Reads an optional boolean parameter. @internal */
export function booleanParam(value: unknown, fallback: boolean, key: string, router: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return fail(router, `parameters.${key} must be true or false, got ${JSON.stringify(value)}`);
}
