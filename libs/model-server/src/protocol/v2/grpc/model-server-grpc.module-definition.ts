import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ModelServerGrpcModuleOptions } from '../../../options/grpc-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: GrpcConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: GRPC_MODULE_OPTIONS,
  OPTIONS_TYPE: GRPC_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GRPC_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ModelServerGrpcModuleOptions>().setClassMethodName('forRoot').build();

/** The options after validation and defaults. @internal */
export const RESOLVED_GRPC_OPTIONS = Symbol.for('nest-model-server:resolved-grpc-options');
