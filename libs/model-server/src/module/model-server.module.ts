import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, ApplicationConfig, ModuleRef } from '@nestjs/core';
import { defaultExecutorFactory } from '../execution/default-executor.factory';
import { DataPlane } from '../inference/data-plane';
import { ModelCatalog } from '../inference/model-catalog';
import { ServerInfo } from '../inference/server-info';
import { InferenceEventStream } from '../inference/inference-event-stream';
import { ModelRepository } from '../repository/model-repository';
import { MODEL_SERVER_VERSION } from '../version';
import { MODEL_ROUTE_PIPELINE, RESOLVED_OPTIONS } from '../options/tokens';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './model-server.module-definition';
import type { ModelServerModuleOptions, ResolvedModelServerOptions } from '../options/model-server-options.interface';
import { ModelServerLifecycle } from './model-server.lifecycle';
import { validateOptions } from './options.validation';
import { AuthRegistrar } from '../protocol/auth/auth.registrar';
import { TokenVerifier } from '../protocol/auth/token-verifier';
import { HttpErrorFilter } from '../protocol/http/http-error.filter';
import { OpenApiRegistrar } from '../protocol/openapi/openapi.registrar';
import { RestRegistrar } from './rest.registrar';
import { ModelRoutePipelineHolder } from './model-route.pipeline';
import { collectModelRegistrations, MODEL_REGISTRATIONS, type ModelRegistration } from './model-registrations';
import { ModelInjector } from './model-injector';
import { failConfigRoutersWithUnknownMembers } from './config-file.loader';
import { FEATURE_MODELS, ModelServerFeatureModule, type FeatureModels, type ModelServerFeatureOptions } from './model-server-feature.module';

/**
 * Serves models over the KServe v2 / Open Inference Protocol.
 *
 * @example
 * ModelServerModule.forRoot({ models: [{ name: 'iris', model: IrisModel, modelPath: './models/iris' }] })
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: MODEL_REGISTRATIONS,
      useFactory: (options: ModelServerModuleOptions, moduleRef: ModuleRef) =>
        failConfigRoutersWithUnknownMembers(collectModelRegistrations(Array.isArray(options.models) ? options.models : [], ModelServerModule, moduleRef)),
      inject: [MODULE_OPTIONS_TOKEN, ModuleRef],
    },
    {
      provide: RESOLVED_OPTIONS,
      // The root's models and every feature module's, checked together.
      useFactory: (options: ModelServerModuleOptions, registrations: ModelRegistration[]) =>
        validateOptions(Array.isArray(options.models) ? { ...options, models: registrations.map((r) => r.config) } : options, MODEL_SERVER_VERSION),
      inject: [MODULE_OPTIONS_TOKEN, MODEL_REGISTRATIONS],
    },
    { provide: InferenceEventStream, useFactory: () => new InferenceEventStream() },
    {
      provide: ModelRepository,
      useFactory: (o: ResolvedModelServerOptions, registrations: ModelRegistration[]) =>
        new ModelRepository(o.models, o.loadMode, o.executorFactory ?? defaultExecutorFactory, new ModelInjector(registrations).build),
      inject: [RESOLVED_OPTIONS, MODEL_REGISTRATIONS],
    },
    {
      provide: ServerInfo,
      useFactory: (o: ResolvedModelServerOptions) => {
        const info = new ServerInfo(o.serverName, o.serverVersion);
        if (o.rest) {
          info.addExtension('binary_tensor_data');
          info.addExtension('model_repository');
        }
        return info;
      },
      inject: [RESOLVED_OPTIONS],
    },
    {
      provide: DataPlane,
      useFactory: (repository: ModelRepository, events: InferenceEventStream, o: ResolvedModelServerOptions) =>
        new DataPlane(repository, events, {
          maxInFlight: o.maxInFlight,
          requestTimeoutMs: o.requestTimeoutMs,
          maxInputs: o.maxInputs,
          maxOutputs: o.maxOutputs,
          maxParameters: o.maxParameters,
          maxTensorBytes: o.maxTensorBytes,
          maxJsonValueBytes: o.maxJsonValueBytes,
          maxRequestBytesInFlight: o.maxRequestBytesInFlight,
          streamBufferChunks: o.streamBufferChunks,
        }),
      inject: [ModelRepository, InferenceEventStream, RESOLVED_OPTIONS],
    },
    {
      provide: ModelCatalog,
      useFactory: (repository: ModelRepository, info: ServerInfo, o: ResolvedModelServerOptions) => new ModelCatalog(repository, info, o.modelControl),
      inject: [ModelRepository, ServerInfo, RESOLVED_OPTIONS],
    },
    ModelServerLifecycle,
    {
      provide: MODEL_ROUTE_PIPELINE,
      // ModelServerModule is what a guard sees as the class of the server's own routes (GET /v2, the repository API).
      useFactory: (registrations: ModelRegistration[], config?: ApplicationConfig) => new ModelRoutePipelineHolder(config, registrations, ModelServerModule),
      inject: [MODEL_REGISTRATIONS, { token: ApplicationConfig, optional: true }],
    },
    RestRegistrar,
    OpenApiRegistrar,
    { provide: TokenVerifier, useFactory: (o: ResolvedModelServerOptions) => new TokenVerifier(o.auth), inject: [RESOLVED_OPTIONS] },
    AuthRegistrar,
    // Errors that reach Nest (unknown routes, the application's own controllers) answer `{"error"}` like the v2 routes.
    { provide: APP_FILTER, useFactory: (o: ResolvedModelServerOptions) => new HttpErrorFilter(o.debug), inject: [RESOLVED_OPTIONS] },
  ],
  exports: [DataPlane, ModelCatalog, ModelRepository, InferenceEventStream, ServerInfo, TokenVerifier, RESOLVED_OPTIONS, MODEL_ROUTE_PIPELINE],
})
export class ModelServerModule extends ConfigurableModuleClass {
  /**
   * Contributes models to the server of `forRoot`/`forRootAsync` from a feature module: they are built by the
   * importing module's injector, so they may inject its providers. Names must be unique across the application.
   *
   * @example
   * \@Module({ imports: [ModelServerModule.forFeature({ models: [{ name: 'scorer', model: ScorerModel }] })], providers: [FeatureStore] })
   * export class ScoringModule {}
   */
  static forFeature(options: ModelServerFeatureOptions): DynamicModule {
    const value: FeatureModels = { models: options.models };
    return { module: ModelServerFeatureModule, providers: [{ provide: FEATURE_MODELS, useValue: value }] };
  }
}
