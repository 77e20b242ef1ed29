import { Inject, Optional, type InjectionToken, type OptionalFactoryDependency, type Type } from '@nestjs/common';
import { PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { ModelServer, type ModelClass } from '../model/model-server';
import type { ModelBuilder, ResolvedVersionConfig } from '../repository/model-version';
import type { ModelRegistration } from './model-registrations';

/** A class whose constructor receives a factory's `inject` list: Nest's injector resolves it in the registering module. */
type DepsHolder = Type<{ readonly deps: unknown[] }>;

/**
 * Builds model instances with Nest's injector, in the module that registered each model: its `useFactory` with
 * its `inject` list, else `ModuleRef.create(Class)`, so an `@Injectable()` model class gets its constructor
 * dependencies. A fresh instance per version and per load; the repository drives the lifecycle.
 *
 * @internal
 */
export class ModelInjector {
  private readonly byName = new Map<string, { registration: ModelRegistration; deps: DepsHolder | undefined }>();

  constructor(registrations: readonly ModelRegistration[]) {
    for (const registration of registrations) {
      const { useFactory, inject } = registration.config;
      this.byName.set(registration.config.name, { registration, deps: useFactory === undefined ? undefined : depsHolder(inject ?? []) });
    }
  }

  readonly build: ModelBuilder = async (config: ResolvedVersionConfig): Promise<ModelServer> => {
    const found = this.byName.get(config.name);
    if (found === undefined) return new (config.model as new () => ModelServer)();
    const { registration, deps } = found;
    const useFactory = registration.config.useFactory as ((...d: unknown[]) => ModelServer | Promise<ModelServer>) | undefined;
    // A version with a class of its own is built from that class; the factory builds the model's own class.
    if (useFactory !== undefined && deps !== undefined && config.model === registration.config.model) {
      const { deps: values } = await registration.moduleRef.create(deps);
      const instance = await useFactory(...values);
      if (!(instance instanceof config.model)) {
        throw new Error(`useFactory returned ${describe(instance)}, not an instance of ${config.model.name} (the model's class)`);
      }
      return instance;
    }
    const unknown = undeclaredParameters(config.model);
    if (unknown > 0) {
      throw new Error(
        `${config.model.name}'s constructor takes ${unknown} parameter(s) but declares no types Nest can inject: ` +
          'mark the class @Injectable() (with decorator metadata on), use @Inject(token) on each parameter, or give the model a useFactory',
      );
    }
    return registration.moduleRef.create(config.model as unknown as Type<ModelServer>);
  };
}

/**
 * What a model class's constructor asks Nest to inject, by name (empty for a class built with `new` alone): the
 * types decorator metadata records, `@Inject` tokens, or the parameter count of an undecorated constructor.
 *
 * @internal
 */
export function constructorDependencies(model: ModelClass): string[] {
  const types = [...((Reflect.getMetadata(PARAMTYPES_METADATA, model) as unknown[] | undefined) ?? [])];
  for (const { index, param } of (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, model) as { index: number; param: unknown }[] | undefined) ?? []) {
    types[index] = param;
  }
  if (types.length === 0 && model.length > 0) return [`${model.length} constructor parameter(s)`];
  return types.map(tokenName);
}

/** Parameters of a constructor Nest has no type for (an undecorated class that takes arguments). */
function undeclaredParameters(model: ModelClass): number {
  const declared = Reflect.getMetadata(PARAMTYPES_METADATA, model) as unknown[] | undefined;
  const own = Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, model) as unknown[] | undefined;
  return declared === undefined && (own === undefined || own.length === 0) ? model.length : 0;
}

function depsHolder(inject: readonly (InjectionToken | OptionalFactoryDependency)[]): DepsHolder {
  class FactoryDependencies {
    readonly deps: unknown[];
    constructor(...deps: unknown[]) {
      this.deps = deps;
    }
  }
  inject.forEach((dep, index) => {
    const optional = typeof dep === 'object' && dep !== null && 'token' in dep;
    Inject(optional ? dep.token : dep)(FactoryDependencies, undefined, index);
    if (optional && dep.optional === true) Optional()(FactoryDependencies, undefined, index);
  });
  return FactoryDependencies;
}

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name;
  if (typeof token === 'symbol') return token.toString();
  return String(token);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}
