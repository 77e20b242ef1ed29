export { ModelServerGrpcModule } from './model-server-grpc.module';
export { GrpcInferenceServer } from './grpc-inference.server';
export { GRPC_MODULE_OPTIONS } from './model-server-grpc.module-definition';
export { DEFAULT_GRPC_MAX_MESSAGE_BYTES, DEFAULT_GRPC_PORT } from './grpc-options.interface';
export type { ModelServerGrpcModuleOptions } from './grpc-options.interface';
export { GRPC_PREDICT_V2_PROTO, GRPC_INFERENCE_SERVICE } from './grpc-service.definition';
export { toGrpcError } from './grpc-status.map';
export type { GrpcErrorAnswer } from './grpc-status.map';
