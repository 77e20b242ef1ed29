import type { ModelClass } from '../model/model-server';
import type { ModelConfig } from '../repository/model-config.interface';
import { ModelRouter } from './model-router.base';
import { ParallelRun } from './parallel-run.router';
import { parseRouterMembers } from './router-members.util';
import { TrafficSplit } from './traffic-split.router';
import { VotingEnsemble } from './voting-ensemble.router';

/**
 * The built-in routers by the name a config file gives them (`router: VotingEnsemble`).
 *
 * @publicApi
 */
export const ROUTER_CLASSES: Readonly<Record<string, ModelClass>> = Object.freeze({
  VotingEnsemble,
  ParallelRun,
  TrafficSplit,
});

/**
 * The built-in router class named `name`, or an error listing them.
 *
 * @publicApi
 */
export function routerClass(name: unknown): ModelClass {
  if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(ROUTER_CLASSES, name)) return ROUTER_CLASSES[name];
  throw new Error(`unknown router ${JSON.stringify(name)}; the routers are ${Object.keys(ROUTER_CLASSES).join(', ')}`);
}

function isRouterClass(model: unknown): boolean {
  return typeof model === 'function' && model.prototype instanceof ModelRouter;
}

/**
 * Checks, before anything loads, that every router's members name configured models and versions.
 * Returns the problems by router name (empty when all is well); the caller decides whether they fail the
 * server or only the routers. Members' own syntax is checked here too, with the message the router's load gives.
 *
 * @publicApi
 */
export function checkRouterMembers(models: readonly ModelConfig[]): Map<string, string> {
  const byName = new Map<string, ModelConfig>();
  for (const m of models) byName.set(m.name, m);
  const problems = new Map<string, string>();
  for (const config of models) {
    const versions = config.versions === undefined || config.versions.length === 0 ? [undefined] : config.versions;
    for (const v of versions) {
      if (!isRouterClass(v?.model ?? config.model)) continue;
      const parameters = { ...(config.parameters ?? {}), ...(v?.parameters ?? {}) };
      try {
        const cls = v?.model ?? config.model;
        const rule = cls === TrafficSplit || cls.prototype instanceof TrafficSplit ? 'non-negative' : 'positive';
        for (const member of parseRouterMembers(parameters.members, config.name, rule)) {
          const target = byName.get(member.model);
          if (target === undefined) {
            throw new Error(`router '${config.name}': member '${member.name}' calls model '${member.model}', which is not configured`);
          }
          const known = (target.versions ?? []).map((x) => x.version);
          if (member.version !== undefined && !known.includes(member.version)) {
            const list = known.length > 0 ? `its versions are ${known.map((x) => `'${x}'`).join(', ')}` : 'it has no versions';
            throw new Error(`router '${config.name}': member '${member.name}' calls version '${member.version}' of '${member.model}'; ${list}`);
          }
        }
      } catch (err) {
        problems.set(config.name, (err as Error).message);
        break;
      }
    }
  }
  return problems;
}
