import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { TextMapGetter } from '@opentelemetry/api';
import { ATTR_RPC_METHOD, ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC } from '@opentelemetry/semantic-conventions';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { CancellationSource } from '../../../model/request-context';
import type { RequestTracer } from '../../../tracing/request-tracer';
import type { ServerSpan } from '../../../tracing/server-span';
import { TRACEPARENT } from '../../../tracing/traceparent.util';

/** What every gRPC call offers the converter: its deadline, metadata and cancellation. */
interface GrpcCallLike {
  getDeadline(): Date | number;
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
}

/**
 * Tells a request that its gRPC call went away (client cancel, deadline, connection lost). grpc-js reports
 * every finished call as "cancelled" too, so the call is settled once answered and later reports are ignored.
 * Nothing is registered on the call unless model code asks for the request's signal.
 *
 * @internal
 */
export class GrpcCallCancellation implements CancellationSource {
  private settled = false;

  constructor(private readonly call: GrpcCallLike) {}

  onCancel(listener: () => void): void {
    if (this.settled) return;
    if (this.call.cancelled) {
      listener();
      return;
    }
    this.call.once('cancelled', () => {
      if (!this.settled) listener();
    });
  }

  /** The call has been answered: nothing the client does now cancels it. */
  settle(): void {
    this.settled = true;
  }
}

/** The data plane's options for one gRPC call, with its cancellation to settle once answered. @internal */
export interface GrpcCallOptions extends CallOptions {
  cancellation: GrpcCallCancellation;
}

/**
 * The data plane's {@link CallOptions} for one gRPC call: protocol `grpc`; the client's `grpc-timeout` as the
 * absolute `deadline` (epoch ms) the data plane enforces; the call's cancellation (the request's signal fires
 * when the client goes away); `traceparent` from the metadata, when sent.
 *
 * @internal
 */
export function grpcCallOptions(call: GrpcCallLike): GrpcCallOptions {
  const options: GrpcCallOptions = { protocol: 'grpc', cancellation: new GrpcCallCancellation(call) };
  const d = call.getDeadline();
  const deadline = typeof d === 'number' ? d : d.getTime();
  if (Number.isFinite(deadline)) options.deadline = deadline;
  const traceparent = call.metadata.get(TRACEPARENT);
  if (traceparent.length > 0 && typeof traceparent[0] === 'string') options.headers = { [TRACEPARENT]: traceparent[0] };
  return options;
}

/** The service whose RPCs get server spans. */
const SERVICE = 'inference.GRPCInferenceService';

/** Reads `traceparent` / `tracestate` from a call's metadata. */
const METADATA_GETTER: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length > 0 && typeof values[0] === 'string' ? values[0] : undefined;
  },
};

/**
 * The server span of one inference RPC (a `ModelInfer` call, or one request on a `ModelStreamInfer` stream), named
 * `inference.GRPCInferenceService/<method>` with the RPC semantic conventions' attributes, continuing the caller's
 * `traceparent` / `tracestate` metadata; null when tracing is off.
 *
 * @internal
 */
export function startGrpcServerSpan(tracer: RequestTracer, method: string, metadata: Metadata): ServerSpan | null {
  if (!tracer.on) return null;
  const name = `${SERVICE}/${method}`;
  const span = tracer.serverSpan(name, metadata, METADATA_GETTER);
  if (span.span.isRecording()) span.span.setAttributes({ [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: name });
  return span;
}

/** Ends an RPC's server span with the status it answered (`code`: a gRPC status code). @internal */
export function endGrpcServerSpan(span: ServerSpan, code: number): void {
  span.endRpc(code, GrpcStatus[code] ?? String(code));
}

/** Sends the metadata that names the request's span, at the start of a traced answer (a call already gone takes none). @internal */
export function sendTraceMetadata(call: { sendMetadata(metadata: Metadata): void }, span: ServerSpan): void {
  const metadata = new Metadata();
  metadata.set(TRACEPARENT, span.traceparent());
  try {
    call.sendMetadata(metadata);
  } catch {
    // The client went away: nothing to tell it.
  }
}
