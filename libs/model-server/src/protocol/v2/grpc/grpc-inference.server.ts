import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { DataPlane } from '../../../inference/data-plane';
import { ModelCatalog } from '../../../inference/model-catalog';
import { RESOLVED_OPTIONS } from '../../../options/tokens';
import { TokenVerifier } from '../../auth/token-verifier';
import type { ResolvedModelServerOptions } from '../../../options/model-server-options.interface';
import { grpcAuthInterceptor } from './grpc-auth.interceptor';
import { GrpcHealthService } from './grpc-health.service';
import { GrpcInferenceHandlers } from './grpc-inference.handlers';
import type { ResolvedGrpcOptions } from '../../../options/grpc-options.interface';
import { loadInferenceService } from './grpc-service.definition';
import { shutdownGracefully } from './grpc-shutdown.util';
import { messageLimitInterceptor } from './message-limit.interceptor';
import { RESOLVED_GRPC_OPTIONS } from './model-server-grpc.module-definition';

/**
 * The gRPC server of the application: `inference.GRPCInferenceService`, `grpc.health.v1.Health` (readiness, for
 * Kubernetes gRPC probes) and server reflection on its own port,
 * bound when the application bootstraps (after blocking model loads) and drained when it shuts down: new calls
 * are refused, in-flight ones get `shutdownGraceMs` to finish, then are cancelled.
 *
 * @publicApi
 */
@Injectable()
export class GrpcInferenceServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GrpcInferenceServer');
  private server: Server | null = null;
  private health: GrpcHealthService | null = null;
  private boundPort = 0;

  constructor(
    @Inject(DataPlane) private readonly dataPlane: DataPlane,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(RESOLVED_GRPC_OPTIONS) private readonly options: ResolvedGrpcOptions,
    @Inject(RESOLVED_OPTIONS) private readonly serverOptions: ResolvedModelServerOptions,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  /** The port the server listens on (the chosen one when configured with port 0); 0 before it started. */
  get port(): number {
    return this.boundPort;
  }

  /** `host:port` as bound, e.g. `0.0.0.0:8081`. */
  get address(): string {
    return `${bindHost(this.options.host)}:${this.boundPort}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { definition, packageDefinition } = loadInferenceService();
    const limits = messageLimitInterceptor(this.options.maxReceiveMessageBytes);
    const server = new Server({
      // Channelz counts every call for a channelz service this server does not offer; off, grpc-js skips the
      // per-call trackers (about 3,000 instructions a call, test/bench/RESULTS.md grpc-floor).
      'grpc.enable_channelz': 0,
      'grpc.max_receive_message_length': this.options.maxReceiveMessageBytes,
      'grpc.max_send_message_length': this.options.maxSendMessageBytes,
      interceptors: this.verifier.enabled
        ? [limits, grpcAuthInterceptor(this.verifier, this.serverOptions.auth)]
        : [limits],
    });
    const handlers = new GrpcInferenceHandlers(this.dataPlane, this.catalog, {
      maxSendMessageBytes: this.options.maxSendMessageBytes,
      maxStreamInFlight: this.options.maxStreamInFlight,
      debug: this.serverOptions.debug,
    });
    server.addService(definition, handlers.implementation());
    const health = new GrpcHealthService(this.catalog);
    const healthService = GrpcHealthService.load();
    server.addService(healthService.definition, health.implementation());
    this.health = health;
    if (this.options.reflection) new ReflectionService({ ...packageDefinition, ...healthService.packageDefinition }).addToServer(server);
    const target = `${bindHost(this.options.host)}:${this.options.port}`;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, ServerCredentials.createInsecure(), (err, port) => {
        if (err !== null) {
          reject(new Error(`cannot serve gRPC on ${target}: ${err.message} (choose another port: GRPC_PORT / --grpc-port)`));
        } else {
          resolve(port);
        }
      });
    });
    this.server = server;
    this.logger.log(`gRPC (inference.GRPCInferenceService) listening on ${this.address}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    this.health?.close();
    const forced = await shutdownGracefully(server, this.options.shutdownGraceMs);
    if (forced) this.logger.warn(`cancelled the gRPC calls still running after ${this.options.shutdownGraceMs} ms`);
  }
}

/** grpc-js wants IPv6 literals in brackets. */
function bindHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
