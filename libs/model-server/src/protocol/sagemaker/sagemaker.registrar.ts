import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ServerInfo } from '../../inference/server-info';
import { RESOLVED_OPTIONS } from '../../options/tokens';
import type { ResolvedModelServerOptions } from '../../options/model-server-options.interface';
import { TokenVerifier } from '../auth/token-verifier';
import { onFastify } from '../http/fastify-instance.util';
import { MULTI_MODEL_API_PATHS, SAGEMAKER_API_PATHS } from './sagemaker.openapi';
import { SageMakerRoutes } from './sagemaker.routes';
import { SageMakerService } from './sagemaker.service';
import { MultiModelService } from './multi-model.service';

/**
 * Puts the SageMaker routes on the application's Fastify instance at init, outside Nest's router (no interceptor,
 * pipe or guard on `/invocations`).
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
  ) {}

  onModuleInit(): void {
    onFastify(this.adapterHost, (app) => this.register(app));
  }

  private register(app: FastifyInstance): void {
    // /ping is open unless health is protected: then its answer must not name the models the other routes protect.
    const pingNamesModels = this.verifier.mayNameModels('health');
    this.verifier.declareOpen('/ping', 'health');
    const multiModel = this.multiModel.enabled ? this.multiModel : undefined;
    new SageMakerRoutes(this.service, { maxBodyBytes: this.options.maxBodyBytes, debug: this.options.debug, pingNamesModels }, multiModel).register(app);
    this.info.addApiPaths(SAGEMAKER_API_PATHS);
    if (multiModel !== undefined) this.info.addApiPaths(MULTI_MODEL_API_PATHS);
  }
}
