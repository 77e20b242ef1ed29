import { Module } from '@nestjs/common';
import { ContentCodecModule } from '../../codecs/content/content-codec.module';
import { RESOLVED_SAGEMAKER_OPTIONS, SAGEMAKER_MODULE_OPTIONS, SageMakerConfigurableModule } from './sagemaker.module-definition';
import type { SageMakerModuleOptions } from '../../options/sagemaker-options.interface';
import { validateSageMakerOptions } from './sagemaker-options.validation';
import { SageMakerRegistrar } from './sagemaker.registrar';
import { SageMakerService } from './sagemaker.service';
import { MultiModelService } from './multi-model.service';

/**
 * Serves the models of {@link ModelServerModule} (which it needs, imported beside it) over the SageMaker serving
 * contract as well: `GET /ping`, `POST /invocations` (model from `X-Amzn-SageMaker-Target-Model`, else the default
 * model; bodies through the content codecs or the model's `input` / `output` hooks) and `GET /execution-parameters`;
 * with `multiModel`, SageMaker's multi-model endpoint API too (models loaded from their folders at run time).
 *
 * @example
 * @Module({ imports: [ModelServerModule.forRoot({ models }), SageMakerModule.forRoot({ defaultModel: 'iris' })] })
 * export class AppModule {}
 * @publicApi
 */
@Module({
  imports: [ContentCodecModule],
  providers: [
    {
      provide: RESOLVED_SAGEMAKER_OPTIONS,
      useFactory: (options: SageMakerModuleOptions) => validateSageMakerOptions(options),
      inject: [SAGEMAKER_MODULE_OPTIONS],
    },
    SageMakerService,
    MultiModelService,
    SageMakerRegistrar,
  ],
  exports: [SageMakerService, MultiModelService],
})
export class SageMakerModule extends SageMakerConfigurableModule {}
