import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SageMakerModuleOptions } from '../../options/sagemaker-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: SageMakerConfigurableModule,
  MODULE_OPTIONS_TOKEN: SAGEMAKER_MODULE_OPTIONS,
  OPTIONS_TYPE: SAGEMAKER_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SageMakerModuleOptions>({ moduleName: 'SageMaker' }).setClassMethodName('forRoot').build();

/** The checked options with defaults. @internal */
export const RESOLVED_SAGEMAKER_OPTIONS = Symbol.for('nest-model-server:sagemaker-options');
