import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DataPlane } from '../inference/data-plane';
import { ModelCatalog } from '../inference/model-catalog';
import { TokenVerifier } from '../protocol/auth/token-verifier';
import { fastLaneSlotOf } from '../protocol/http/fast-lane';
import { onFastify } from '../protocol/http/fastify-instance.util';
import { V2InferLane } from '../protocol/v2/rest/v2-infer.lane';
import { V2RestEndpoint, type BodyPaths } from '../protocol/v2/rest/v2-rest.endpoint';
import { V2RestRoutes } from '../protocol/v2/rest/v2-rest.routes';
import { V2_OPEN_PATHS } from '../protocol/v2/rest/v2-routes.table';
import { OpenAIEndpoint } from '../protocol/openai/openai.endpoint';
import { OpenAIRoutes } from '../protocol/openai/openai.routes';
import { RESOLVED_OPTIONS } from '../options/tokens';
import type { ResolvedModelServerOptions } from '../options/model-server-options.interface';

/**
 * Puts the v2 REST routes (and the OpenAI-compatible ones) on the application's Fastify instance at init, outside Nest's router,
 * so no interceptor, pipe or guard runs on the inference path; with an adapter from `createFastifyAdapter`,
 * the JSON infer route is also served from the HTTP server's fast lane.
 *
 * @internal
 */
@Injectable()
export class RestRegistrar implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DataPlane) private readonly dataPlane: DataPlane,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModelServerOptions,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Optional() @Inject(ApplicationConfig) private readonly appConfig?: ApplicationConfig,
  ) {}

  onModuleInit(): void {
    if (this.options.rest) onFastify(this.adapterHost, (app) => this.register(app));
  }

  private register(app: FastifyInstance): void {
    const bodyPaths = new Map<string, BodyPaths>();
    for (const m of this.options.models) {
      if (m.inputPath !== undefined || m.resultPath !== undefined) {
        bodyPaths.set(m.name, { inputPath: m.inputPath, resultPath: m.resultPath });
      }
    }
    const { maxBodyBytes, debug } = this.options;
    const endpoint = new V2RestEndpoint(this.dataPlane, this.catalog, { maxBodyBytes, debug, bodyPaths });
    new V2RestRoutes(endpoint, { maxBodyBytes, debug }).register(app);
    if (this.options.openai) new OpenAIRoutes(new OpenAIEndpoint(this.dataPlane, this.catalog, debug), { maxBodyBytes, debug }).register(app);
    for (const path of V2_OPEN_PATHS) this.verifier.declareOpen(path, 'health');
    const slot = fastLaneSlotOf(app);
    const prefix = this.appConfig?.getGlobalPrefix() ?? '';
    if (slot !== undefined && prefix !== '') slot.turnOff(`the application has a global prefix ('${prefix}')`);
    if (slot !== undefined) {
      const verifier = this.verifier;
      slot.lane = new V2InferLane(endpoint, this.dataPlane, maxBodyBytes, (url, headers) => verifier.admits(url, headers)).handle;
    }
  }
}
