import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DataPlane } from '../inference/data-plane';
import { ModelCatalog } from '../inference/model-catalog';
import { ServerInfo } from '../inference/server-info';
import { JsonContentCodec } from '../codecs/content/json-content.codec';
import { V1RestEndpoint } from '../protocol/v1/v1-rest.endpoint';
import { V1RestRoutes } from '../protocol/v1/v1-rest.routes';
import { V1_API_PATHS } from '../protocol/v1/v1.openapi';
import { TokenVerifier } from '../protocol/auth/token-verifier';
import { fastLaneSlotOf } from '../protocol/http/fast-lane';
import { onFastify } from '../protocol/http/fastify-instance.util';
import { readAddressesOnConnect } from '../protocol/http/http-server-span';
import { V2InferLane } from '../protocol/v2/rest/v2-infer.lane';
import { V2RestEndpoint, type BodyPaths } from '../protocol/v2/rest/v2-rest.endpoint';
import { V2RestRoutes } from '../protocol/v2/rest/v2-rest.routes';
import { V2_OPEN_PATHS } from '../protocol/v2/rest/v2-routes.table';
import { OpenAIEndpoint } from '../protocol/openai/openai.endpoint';
import { OpenAIRoutes } from '../protocol/openai/openai.routes';
import { MODEL_ROUTE_PIPELINE, RESOLVED_OPTIONS } from '../options/tokens';
import type { ResolvedModelServerOptions } from '../options/model-server-options.interface';
import type { ModelRoutePipelineHolder, ModelRoutePipelines } from './model-route.pipeline';

/**
 * Puts the v2 REST routes (and the v1 and OpenAI-compatible ones) on the application's Fastify instance at init, outside Nest's router; the
 * application's guards and interceptors (global ones, and a model class's own) run around every route but the
 * health ones, with Nest's exception filters for what they throw. With an adapter from `createFastifyAdapter`,
 * the JSON infer route is also served from the HTTP server's fast lane, for models no guard or interceptor covers.
 *
 * @internal
 */
@Injectable()
export class RestRegistrar implements OnModuleInit {
  constructor(
    @Inject(ServerInfo) private readonly info: ServerInfo,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DataPlane) private readonly dataPlane: DataPlane,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModelServerOptions,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(MODEL_ROUTE_PIPELINE) private readonly pipelineSource: ModelRoutePipelineHolder,
    @Optional() @Inject(ApplicationConfig) private readonly appConfig?: ApplicationConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.options.rest) return;
    const pipelines = await this.pipelineSource.pipeline();
    onFastify(this.adapterHost, (app) => this.register(app, pipelines));
  }

  private register(app: FastifyInstance, pipelines: ModelRoutePipelines | undefined): void {
    const bodyPaths = new Map<string, BodyPaths>();
    for (const m of this.options.models) {
      if (m.inputPath !== undefined || m.resultPath !== undefined) {
        bodyPaths.set(m.name, { inputPath: m.inputPath, resultPath: m.resultPath });
      }
    }
    const { maxBodyBytes, debug } = this.options;
    const endpoint = new V2RestEndpoint(this.dataPlane, this.catalog, { maxBodyBytes, debug, bodyPaths });
    new V2RestRoutes(endpoint, { maxBodyBytes, debug }, pipelines).register(app);
    if (this.options.openai) new OpenAIRoutes(new OpenAIEndpoint(this.dataPlane, this.catalog, debug), { maxBodyBytes, debug }, pipelines).register(app);
    for (const path of V2_OPEN_PATHS) this.verifier.declareOpen(path, 'health');
    readAddressesOnConnect(app.server, this.dataPlane.tracer);
    const slot = fastLaneSlotOf(app);
    const prefix = this.appConfig?.getGlobalPrefix() ?? '';
    if (slot !== undefined && prefix !== '') slot.turnOff(`the application has a global prefix ('${prefix}')`);
    if (slot !== undefined) {
      const verifier = this.verifier;
      const guarded = pipelines === undefined ? undefined : (model: string) => pipelines.guarded(model);
      slot.lane = new V2InferLane(endpoint, this.dataPlane, maxBodyBytes, (url, headers) => verifier.admits(url, headers), guarded).handle;
    }

    // KServe's v1 routes (unless `v1: false`), beside v2 under /v1; the fast lane declines their paths.
    if (this.options.v1) {
      new V1RestRoutes(new V1RestEndpoint(this.dataPlane, this.catalog, new JsonContentCodec(), { maxBodyBytes, debug }), { maxBodyBytes, debug }, pipelines).register(app);
      this.info.addApiPaths(V1_API_PATHS);
    }
  }
}
