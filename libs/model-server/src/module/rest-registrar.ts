import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DataPlane } from '../inference/data-plane';
import { ModelCatalog } from '../inference/model-catalog';
import { fastifyOf } from '../protocol/http/fastify-instance.util';
import { V2RestRoutes, type BodyPaths } from '../protocol/v2/rest/v2-rest.routes';
import { RESOLVED_OPTIONS } from './model-server.constants';
import type { ResolvedModelServerOptions } from './model-server-options.interface';

/**
 * Puts the v2 REST routes on the application's Fastify instance at init, outside Nest's router,
 * so no interceptor, pipe or guard runs on the inference path.
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
  ) {}

  onModuleInit(): void {
    if (!this.options.rest) return;
    const app = fastifyOf(this.adapterHost);
    if (app === undefined) return; // an application context without HTTP
    const bodyPaths = new Map<string, BodyPaths>();
    for (const m of this.options.models) {
      if (m.inputPath !== undefined || m.resultPath !== undefined) {
        bodyPaths.set(m.name, { inputPath: m.inputPath, resultPath: m.resultPath });
      }
    }
    new V2RestRoutes(this.dataPlane, this.catalog, {
      maxBodyBytes: this.options.maxBodyBytes,
      debug: this.options.debug,
      bodyPaths,
    }).register(app);
  }
}
