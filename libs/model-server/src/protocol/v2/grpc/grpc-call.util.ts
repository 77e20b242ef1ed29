import type { Metadata } from '@grpc/grpc-js';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { CancellationSource } from '../../../model/request-context';

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
  const traceparent = call.metadata.get('traceparent');
  if (traceparent.length > 0 && typeof traceparent[0] === 'string') options.headers = { traceparent: traceparent[0] };
  return options;
}
