import { Module } from '@nestjs/common';
import { ContentCodecModule } from '../../codecs/content/content-codec.module';
import { RESOLVED_SAGEMAKER_OPTIONS, SAGEMAKER_MODULE_OPTIONS, SageMakerConfigurableModule } from './sagemaker.module-definition';
import type { SageMakerModuleOptions } from '../../options/sagemaker-options.interface';
import { validateSageMakerOptions } from './sagemaker-options.validation';
import { SageMakerRegistrar } from './sagemaker.registrar';
import { SageMakerService } from './sagemaker.service';

/**
 * Serves the models of {@link ModelServerModule} (which it needs, imported beside it) over the SageMaker serving
 * contract as well: `GET /ping`, `POST /invocations` (model from `X-Amzn-SageMaker-Target-Model`, else the default
 * model; bodies through the content codecs or the model's `input` / `output` hooks) and `GET /execution-parameters`.
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
    SageMakerRegistrar,
  ],
  exports: [SageMakerService],
})
export class SageMakerModule extends SageMakerConfigurableModule {}
