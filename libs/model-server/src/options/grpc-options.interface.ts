/** 64 MiB: grpc-js's default 4 MiB is too small for tensors. @publicApi */
export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The port gRPC is served on unless told otherwise. @publicApi */
export const DEFAULT_GRPC_PORT = 8081;

/** Time in-flight requests get to finish at shutdown, gRPC calls and (in the CLI) HTTP requests alike. @publicApi */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

/**
 * Options of {@link ModelServerGrpcModule}, checked at boot.
 *
 * @publicApi
 */
export interface ModelServerGrpcModuleOptions {
  /** TCP port (default 8081; 0 picks a free port, see `GrpcInferenceServer.port`). */
  port?: number;
  /** Address to listen on (default `0.0.0.0`; `127.0.0.1` for loopback only). */
  host?: string;
  /** Largest request message in bytes (default 64 MiB); larger ones answer RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes?: number;
  /** Largest response message in bytes (default 64 MiB); larger ones answer RESOURCE_EXHAUSTED. */
  maxSendMessageBytes?: number;
  /**
   * Requests one ModelStreamInfer stream may have in flight (default 64). At the limit the server stops reading
   * that stream until one completes, so HTTP/2 flow control holds the client back.
   */
  maxStreamInFlight?: number;
  /** Milliseconds in-flight calls get to finish when the application shuts down, before they are cancelled (default 30000). */
  shutdownGraceMs?: number;
  /** Serve gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), so grpcurl works without the .proto (default true). */
  reflection?: boolean;
}

/** The options with their defaults applied. @internal */
export type ResolvedGrpcOptions = Required<ModelServerGrpcModuleOptions>;

/** Every option's default, the one place they are written (the CLI reads them too). @internal */
export const GRPC_DEFAULTS: Readonly<ResolvedGrpcOptions> = {
  port: DEFAULT_GRPC_PORT,
  host: '0.0.0.0',
  maxReceiveMessageBytes: DEFAULT_GRPC_MAX_MESSAGE_BYTES,
  maxSendMessageBytes: DEFAULT_GRPC_MAX_MESSAGE_BYTES,
  maxStreamInFlight: 64,
  shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS,
  reflection: true,
};
