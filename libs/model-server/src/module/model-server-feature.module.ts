import { Inject, Module, Optional } from '@nestjs/common';
import type { ModelConfig } from '../repository/model-config.interface';
import { RESOLVED_OPTIONS } from '../options/tokens';

/** The models one `forFeature` call contributes. @internal */
export interface FeatureModels {
  readonly models: readonly ModelConfig[];
}

/** The token of a feature module's {@link FeatureModels}. @internal */
export const FEATURE_MODELS = Symbol.for('nest-model-server:feature-models');

/**
 * Options of `ModelServerModule.forFeature`.
 *
 * @publicApi
 */
export interface ModelServerFeatureOptions {
  /**
   * The models this module contributes to the server set up by `forRoot`/`forRootAsync`, built by this module's
   * injector (they may inject its providers). Names must be unique across the application.
   */
  models: ModelConfig[];
}

/**
 * What `ModelServerModule.forFeature` returns: a module that holds its list of models, which the root module
 * collects at boot; alone (no `forRoot` in the application), it refuses to start.
 *
 * @internal
 */
@Module({})
export class ModelServerFeatureModule {
  constructor(@Optional() @Inject(RESOLVED_OPTIONS) root?: unknown) {
    if (root === undefined) {
      throw new Error(
        'ModelServerModule.forFeature contributes models to the server of ModelServerModule.forRoot (or forRootAsync), ' +
          'which the application does not import (or imports with isGlobal: false, which hides it from feature modules)',
      );
    }
  }
}
