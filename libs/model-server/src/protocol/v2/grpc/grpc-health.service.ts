import { join } from 'node:path';
import {
  status as GrpcStatus,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { ModelCatalog } from '../../../inference/model-catalog';
import { isModelServerError } from '../../../errors';
import { GRPC_INFERENCE_SERVICE } from './grpc-service.definition';

/** Where `grpc.health.v1`'s `.proto` lies (beside the compiled code), for clients. @publicApi */
export const GRPC_HEALTH_PROTO = join(__dirname, 'grpc_health_v1.proto');

/** The fully qualified name of the health service. @publicApi */
export const GRPC_HEALTH_SERVICE = 'grpc.health.v1.Health';

/** How often a `Watch` stream looks at readiness again, in milliseconds. */
const WATCH_INTERVAL_MS = 250;

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthRequest {
  service?: string;
}

interface HealthAnswer {
  status: ServingStatus;
}

/**
 * `grpc.health.v1.Health`, the service Kubernetes gRPC probes and `grpc_health_probe` call. It answers readiness,
 * exactly as `ServerReady` / `ModelReady` and REST's `/v2/health/ready` / `/v2/models/:name/ready` do:
 *
 * - service `""` or `inference.GRPCInferenceService`: the server (every model ready, no shutdown begun);
 * - a model's name, or `name/version`: that model (version), NOT_SERVING once shutdown began;
 * - anything else: `Check` answers NOT_FOUND, `Watch` SERVICE_UNKNOWN (and goes on watching: the model may be
 *   loaded later).
 *
 * `Watch` sends the status at once, then each change; streams end when the server shuts down.
 *
 * @internal
 */
export class GrpcHealthService {
  /** Open Watch streams: the status each was sent last, and its timer. */
  private readonly watchers = new Map<ServerWritableStream<HealthRequest, HealthAnswer>, { last: ServingStatus; timer: NodeJS.Timeout }>();

  constructor(private readonly catalog: ModelCatalog) {}

  /** The service definition (from `grpc_health_v1.proto`) and its package, for reflection. */
  static load(): { definition: ServiceDefinition; packageDefinition: PackageDefinition } {
    const packageDefinition = loadSync(GRPC_HEALTH_PROTO, { keepCase: true, enums: String, defaults: true });
    return { definition: packageDefinition[GRPC_HEALTH_SERVICE] as ServiceDefinition, packageDefinition };
  }

  implementation(): UntypedServiceImplementation {
    return { Check: this.check, Watch: this.watch };
  }

  /** Ends every `Watch` stream (NOT_SERVING first, where the client was told otherwise): the server is closing. */
  close(): void {
    for (const [call, { last, timer }] of this.watchers) {
      clearInterval(timer);
      try {
        if (last !== 'NOT_SERVING') call.write({ status: 'NOT_SERVING' });
        call.end();
      } catch {
        // the client went away meanwhile
      }
    }
    this.watchers.clear();
  }

  /** The status of a service name; SERVICE_UNKNOWN for a name that is neither the server nor a model. */
  statusOf(service: string): ServingStatus {
    if (service === '' || service === GRPC_INFERENCE_SERVICE) return this.catalog.ready() ? 'SERVING' : 'NOT_SERVING';
    const slash = service.indexOf('/');
    const name = slash === -1 ? service : service.slice(0, slash);
    const version = slash === -1 ? undefined : service.slice(slash + 1);
    try {
      return this.catalog.modelReady(name, version) ? 'SERVING' : 'NOT_SERVING';
    } catch (err) {
      if (isModelServerError(err)) return 'SERVICE_UNKNOWN';
      throw err;
    }
  }

  private readonly check = (call: ServerUnaryCall<HealthRequest, HealthAnswer>, callback: sendUnaryData<HealthAnswer>): void => {
    const service = serviceName(call.request);
    const status = this.statusOf(service);
    if (status === 'SERVICE_UNKNOWN') callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service '${service}': give "" for the server, or a model's name (or name/version)` });
    else callback(null, { status });
  };

  private readonly watch = (call: ServerWritableStream<HealthRequest, HealthAnswer>): void => {
    const service = serviceName(call.request);
    const first = this.statusOf(service);
    call.write({ status: first });
    const watcher = {
      last: first,
      timer: setInterval(() => {
        // A timer: nothing may throw out of it (a call that went away is stopped by its events).
        try {
          const now = this.statusOf(service);
          if (now === watcher.last) return;
          watcher.last = now;
          call.write({ status: now });
        } catch {
          stop();
        }
      }, WATCH_INTERVAL_MS),
    };
    watcher.timer.unref();
    this.watchers.set(call, watcher);
    const stop = (): void => {
      clearInterval(watcher.timer);
      this.watchers.delete(call);
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('finish', stop);
  };
}

function serviceName(request: HealthRequest | undefined): string {
  return typeof request?.service === 'string' ? request.service : '';
}
