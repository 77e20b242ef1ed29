import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { defaultExecutorFactory } from '../execution/default-executor.factory';
import { DataPlane } from '../inference/data-plane';
import { ModelCatalog } from '../inference/model-catalog';
import { ServerInfo } from '../inference/server-info';
import { InferenceEventStream } from '../inference/inference-event-stream';
import { ModelRepository } from '../repository/model-repository';
import { MODEL_SERVER_VERSION } from '../version';
import { RESOLVED_OPTIONS } from '../options/tokens';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './model-server.module-definition';
import type { ModelServerModuleOptions, ResolvedModelServerOptions } from '../options/model-server-options.interface';
import { ModelServerLifecycle } from './model-server.lifecycle';
import { validateOptions } from './options.validation';
import { AuthRegistrar } from '../protocol/auth/auth.registrar';
import { TokenVerifier } from '../protocol/auth/token-verifier';
import { HttpErrorFilter } from '../protocol/http/http-error.filter';
import { OpenApiRegistrar } from '../protocol/openapi/openapi.registrar';
import { RestRegistrar } from './rest.registrar';

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
      provide: RESOLVED_OPTIONS,
      useFactory: (options: ModelServerModuleOptions) => validateOptions(options, MODEL_SERVER_VERSION),
      inject: [MODULE_OPTIONS_TOKEN],
    },
    { provide: InferenceEventStream, useFactory: () => new InferenceEventStream() },
    {
      provide: ModelRepository,
      useFactory: (o: ResolvedModelServerOptions) =>
        new ModelRepository(o.models, o.loadMode, o.executorFactory ?? defaultExecutorFactory),
      inject: [RESOLVED_OPTIONS],
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
    RestRegistrar,
    OpenApiRegistrar,
    { provide: TokenVerifier, useFactory: (o: ResolvedModelServerOptions) => new TokenVerifier(o.auth), inject: [RESOLVED_OPTIONS] },
    AuthRegistrar,
    // Errors that reach Nest (unknown routes, the application's own controllers) answer `{"error"}` like the v2 routes.
    { provide: APP_FILTER, useFactory: (o: ResolvedModelServerOptions) => new HttpErrorFilter(o.debug), inject: [RESOLVED_OPTIONS] },
  ],
  exports: [DataPlane, ModelCatalog, ModelRepository, InferenceEventStream, ServerInfo, TokenVerifier, RESOLVED_OPTIONS],
})
export class ModelServerModule extends ConfigurableModuleClass {}
