import { Module } from '@nestjs/common';
import { GrpcInferenceServer } from './grpc-inference.server';
import type { ModelServerGrpcModuleOptions } from '../../../options/grpc-options.interface';
import { validateGrpcOptions } from './grpc-options.validation';
import { GRPC_MODULE_OPTIONS, GrpcConfigurableModuleClass, RESOLVED_GRPC_OPTIONS } from './model-server-grpc.module-definition';

/**
 * Serves the KServe v2 / Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, with server
 * reflection) from the same process and data plane as REST. Import it next to {@link ModelServerModule}, whose
 * data plane, catalog and repository it uses; its server starts and stops with the application.
 *
 * @example
 * imports: [
 *   ModelServerModule.forRoot({ models }),
 *   ModelServerGrpcModule.forRoot({ port: 8081, maxReceiveMessageBytes: 256 * 1024 * 1024 }),
 * ]
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: RESOLVED_GRPC_OPTIONS,
      useFactory: (options: ModelServerGrpcModuleOptions) => validateGrpcOptions(options),
      inject: [GRPC_MODULE_OPTIONS],
    },
    GrpcInferenceServer,
  ],
  exports: [GrpcInferenceServer],
})
export class ModelServerGrpcModule extends GrpcConfigurableModuleClass {}
