/** The part of a grpc-js Server that shutting down needs. */
export interface StoppableServer {
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}

/**
 * Stops a gRPC server: new calls are refused at once; calls in flight get `graceMs` to finish, after which
 * they are cancelled. Resolves `true` when calls had to be cancelled.
 *
 * @internal
 */
export function shutdownGracefully(server: StoppableServer, graceMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve(true);
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
