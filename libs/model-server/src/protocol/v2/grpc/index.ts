/**
 * `nest-model-server/grpc`: the KServe v2 gRPC service (`inference.GRPCInferenceService`) on its own port,
 * over the same data plane as REST.
 */
import 'reflect-metadata';

export { ModelServerGrpcModule } from './model-server-grpc.module';
export { GrpcInferenceServer } from './grpc-inference.server';
export { DEFAULT_GRPC_MAX_MESSAGE_BYTES, DEFAULT_GRPC_PORT, DEFAULT_SHUTDOWN_GRACE_MS } from '../../../options/grpc-options.interface';
export type { ModelServerGrpcModuleOptions } from '../../../options/grpc-options.interface';
export { GRPC_PREDICT_V2_PROTO, GRPC_INFERENCE_SERVICE } from './grpc-service.definition';
export { GRPC_HEALTH_PROTO, GRPC_HEALTH_SERVICE } from './grpc-health.service';
