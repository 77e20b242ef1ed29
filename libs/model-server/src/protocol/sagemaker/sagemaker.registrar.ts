import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ServerInfo } from '../../inference/server-info';
import { MODEL_ROUTE_PIPELINE, RESOLVED_OPTIONS } from '../../options/tokens';
import type { ResolvedModelServerOptions } from '../../options/model-server-options.interface';
import { TokenVerifier } from '../auth/token-verifier';
import { onFastify } from '../http/fastify-instance.util';
import { readAddressesOnConnect } from '../http/http-server-span';
import type { ModelRoutePipelineSource, V2RoutePipeline } from '../v2/rest/v2-rest.routes';
import { MULTI_MODEL_API_PATHS, SAGEMAKER_API_PATHS } from './sagemaker.openapi';
import { SageMakerRoutes } from './sagemaker.routes';
import { SageMakerService } from './sagemaker.service';
import { MultiModelService } from './multi-model.service';

/**
 * Puts the SageMaker routes on the application's Fastify instance at init, outside Nest's router; the
 * application's guards and interceptors (global ones and the target model class's) run around `/invocations`, as
 * around the v2 routes.
 *
 * @internal
 */
@Injectable()
export class SageMakerRegistrar implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SageMakerService) private readonly service: SageMakerService,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModelServerOptions,
    @Inject(ServerInfo) private readonly info: ServerInfo,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(MultiModelService) private readonly multiModel: MultiModelService,
    @Optional() @Inject(MODEL_ROUTE_PIPELINE) private readonly pipelines?: ModelRoutePipelineSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const pipeline = await this.pipelines?.pipeline();
    onFastify(this.adapterHost, (app) => this.register(app, pipeline));
  }

  private register(app: FastifyInstance, pipeline: V2RoutePipeline | undefined): void {
    // /ping is open unless health is protected: then its answer must not name the models the other routes protect.
    const pingNamesModels = this.verifier.mayNameModels('health');
    this.verifier.declareOpen('/ping', 'health');
    const multiModel = this.multiModel.enabled ? this.multiModel : undefined;
    const settings = { maxBodyBytes: this.options.maxBodyBytes, debug: this.options.debug, pingNamesModels };
    new SageMakerRoutes(this.service, settings, pipeline, multiModel).register(app);
    readAddressesOnConnect(app.server, this.service.tracer);
    this.info.addApiPaths(SAGEMAKER_API_PATHS);
    if (multiModel !== undefined) this.info.addApiPaths(MULTI_MODEL_API_PATHS);
  }
}
