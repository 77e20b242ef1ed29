import { ServerInterceptingCall, status as GrpcStatus, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import type { AuthOptions } from '../../../options/auth-options.interface';
import type { TokenVerifier } from '../../auth/token-verifier';

const SERVICE = '/inference.GRPCInferenceService/';
/**
 * The RPCs of REST's open routes (`/v2/health/live`, `/v2/health/ready`): they name no model. ModelReady is
 * REST's `/v2/models/:name/ready`, protected like every route that names or touches a model.
 */
const HEALTH = new Set([`${SERVICE}ServerLive`, `${SERVICE}ServerReady`]);
/** `grpc.health.v1.Health` (Check, Watch): Kubernetes gRPC probes send no credentials. */
const HEALTH_SERVICE = '/grpc.health.v1.Health/';
const REFLECTION = '/grpc.reflection.';
const DETAILS = 'missing or invalid credentials: send the metadata "authorization: Bearer <token>" or the API-key header';

function firstString(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  return values.length > 0 && typeof values[0] === 'string' ? values[0] : undefined;
}

/**
 * The token check of the REST routes, for gRPC, with the same reach: every call's metadata must carry
 * `authorization: Bearer <token>` or the API-key header, else UNAUTHENTICATED (checked before the request message
 * is read). ServerLive, ServerReady and grpc.health.v1.Health stay open unless `protectHealth`, reflection (which lists services, not
 * models) unless `protectDocs`; every RPC that names or touches a model (ModelReady, ModelMetadata, ModelInfer,
 * ModelStreamInfer, the repository RPCs) and ServerMetadata always need credentials. Only installed when tokens
 * are configured.
 *
 * @internal
 */
export function grpcAuthInterceptor(verifier: TokenVerifier, options: AuthOptions): ServerInterceptor {
  const apiKeyHeader = verifier.apiKeyHeader;
  const isOpen = (path: string): boolean =>
    (!options.protectHealth && (HEALTH.has(path) || path.startsWith(HEALTH_SERVICE))) || (!options.protectDocs && path.startsWith(REFLECTION));
  return (method, call) => {
    if (isOpen(method.path)) return call as unknown as ServerInterceptingCall;
    const checked: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            // Runs inside grpc-js's handling of the HTTP/2 stream: nothing may throw out of it.
            let allowed: boolean;
            try {
              allowed = verifier.verify(verifier.tokenFrom(firstString(metadata, 'authorization'), firstString(metadata, apiKeyHeader)));
            } catch {
              allowed = false;
            }
            if (allowed) pass(metadata);
            else checked.sendStatus({ code: GrpcStatus.UNAUTHENTICATED, details: DETAILS });
          },
        }),
    });
    return checked;
  };
}
