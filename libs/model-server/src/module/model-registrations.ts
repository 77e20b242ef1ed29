import type { DynamicModule, Type } from '@nestjs/common';
import { MODULE_METADATA } from '@nestjs/common/constants';
import { ModuleRef, type NestContainer } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module';
import type { ModelConfig } from '../repository/model-config.interface';
import { configFileOf } from './config-file.loader';
import { FEATURE_MODELS, ModelServerFeatureModule, type FeatureModels } from './model-server-feature.module';

/** The token of every model of the application with the module that registered it (root and features). @internal */
export const MODEL_REGISTRATIONS = Symbol('nest-model-server:model-registrations');

/**
 * One model and where it was registered: the module that imports the `forRoot`/`forRootAsync` or `forFeature`
 * that lists it, whose injector builds the model's instances.
 *
 * @internal
 */
export interface ModelRegistration {
  readonly config: ModelConfig;
  /**
   * Where the model was registered, for messages: the registering module's class name and how it registered it
   * (`AppModule (forRoot)`, `ScoringModule (forFeature)`), with the config file the entry was read from, if any.
   */
  readonly origin: string;
  /** The registering module's injector. */
  readonly moduleRef: ModuleRef;
}

/**
 * Every model of the application: the root's (`forRoot`'s `models`, registered by the module that imports the root
 * module) and each `forFeature`'s, registered by the module that imports it. A name registered twice is an error
 * that names both modules.
 *
 * @param root the root module's class (`ModelServerModule`) and its own injector, used when no module imports it
 *   (it is the application's root module)
 * @internal
 */
export function collectModelRegistrations(rootModels: readonly ModelConfig[], rootClass: Type, rootRef: ModuleRef): ModelRegistration[] {
  const container = containerOf(rootRef);
  const out: ModelRegistration[] = [];
  let rootHost: Module | undefined;
  const features: { host: Module; models: readonly ModelConfig[] }[] = [];
  for (const host of container.getModules().values()) {
    for (const entry of declaredImports(container, host)) {
      if (entry.module === rootClass) rootHost ??= host;
      else if (entry.module === ModelServerFeatureModule) features.push({ host, models: featureModels(entry) });
    }
  }
  const rootInjector = rootHost === undefined ? rootRef : refOf(rootHost, rootRef);
  for (const config of rootModels) {
    out.push({ config, origin: originOf(rootHost === undefined ? rootClass.name : rootHost.name, rootHost === undefined ? undefined : 'forRoot', config), moduleRef: rootInjector });
  }
  for (const { host, models } of features) {
    const moduleRef = refOf(host, rootRef);
    for (const config of models) out.push({ config, origin: originOf(host.name, 'forFeature', config), moduleRef });
  }
  const seen = new Map<string, string>();
  for (const { config, origin } of out) {
    const first = seen.get(config?.name);
    if (first !== undefined && first !== origin) {
      throw new Error(`model '${config.name}' is registered by both ${first} and ${origin}: model names must be unique across the application's modules and config files`);
    }
    seen.set(config?.name, origin);
  }
  return out;
}

/** `AppModule (forRoot)`, `AppModule (forRoot, from /srv/models.yaml)`, `ModelServerModule (from /srv/models.yaml)`. */
function originOf(moduleName: string, how: 'forRoot' | 'forFeature' | undefined, config: ModelConfig): string {
  const file = configFileOf(config);
  const details = [how, file === undefined ? undefined : `from ${file}`].filter((d) => d !== undefined);
  return details.length === 0 ? moduleName : `${moduleName} (${details.join(', ')})`;
}

/** The imports a module lists itself (its `@Module` metadata and, for a dynamic module, its dynamic part), not the globals Nest adds. */
function declaredImports(container: NestContainer, host: Module): DynamicModule[] {
  const listed: unknown[] = [
    ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, host.metatype) as unknown[] | undefined) ?? []),
    ...(container.getDynamicMetadataByToken(host.token, 'imports') ?? []),
  ];
  return listed.filter((entry): entry is DynamicModule => typeof entry === 'object' && entry !== null && 'module' in entry);
}

function featureModels(entry: DynamicModule): readonly ModelConfig[] {
  for (const provider of entry.providers ?? []) {
    if (typeof provider === 'object' && 'provide' in provider && provider.provide === FEATURE_MODELS && 'useValue' in provider) {
      return (provider.useValue as FeatureModels).models;
    }
  }
  return [];
}

function refOf(host: Module, fallback: ModuleRef): ModuleRef {
  return (host.getProviderByKey(ModuleRef)?.instance as ModuleRef | undefined) ?? fallback;
}

/** Nest's container behind a module reference (what `ModuleRef` resolves from). */
function containerOf(moduleRef: ModuleRef): NestContainer {
  const container = (moduleRef as unknown as { container?: NestContainer }).container;
  if (container === undefined || typeof container.getModules !== 'function') {
    throw new Error('this version of @nestjs/core hides its container from ModuleRef: the model server cannot find the modules that register models');
  }
  return container;
}
