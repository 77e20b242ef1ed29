import {
  status as GrpcStatus,
  type ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { ModelServerError } from '../../../errors/model-server.error';
import { responseTooLarge as responseMessageTooLarge } from '../../../errors';

type PartialStatus = Pick<StatusObject, 'code' | 'details'> & Partial<Pick<StatusObject, 'metadata'>>;

/** How users raise the limits, for the messages. */
const RECEIVE_SETTING =
  'raise maxReceiveMessageBytes of ModelServerGrpcModule (nest-model-server CLI: GRPC_MAX_MESSAGE_BYTES, --grpc-max-message-bytes or grpcMaxMessageBytes in the config)';
const SEND_SETTING =
  'raise maxSendMessageBytes of ModelServerGrpcModule (nest-model-server CLI: GRPC_MAX_MESSAGE_BYTES, --grpc-max-message-bytes or grpcMaxMessageBytes in the config)';

const RECEIVED = /^Received message larger than max \((\d+) vs\.? (\d+)\)/;
const INFLATED = /^Received message that decompresses to a size larger than (\d+)/;
const SENT = /^Sent message larger than max \((\d+) vs\.? (\d+)\)/;

/**
 * The text of a message-size status, rewritten to say which setting to raise; other statuses unchanged.
 *
 * @internal
 */
export function explainSizeStatus(status: PartialStatus): PartialStatus {
  if (status.code !== GrpcStatus.RESOURCE_EXHAUSTED) return status;
  let m = RECEIVED.exec(status.details);
  if (m !== null) {
    return { ...status, details: `the request message is ${m[1]} bytes, over the server's limit of ${m[2]} bytes: ${RECEIVE_SETTING}` };
  }
  m = INFLATED.exec(status.details);
  if (m !== null) {
    return { ...status, details: `the request message inflates to more than the server's limit of ${m[1]} bytes: ${RECEIVE_SETTING}` };
  }
  m = SENT.exec(status.details);
  if (m !== null) {
    const size = Number(m[1]) - 5; // grpc-js counts its 5-byte frame header
    return { ...status, details: `the response message is ${size} bytes, over the server's limit of ${m[2]} bytes: ${SEND_SETTING}` };
  }
  return status;
}

/**
 * A response the transport itself found too large, measured before it is allocated (RESOURCE_EXHAUSTED).
 *
 * @internal
 */
export function responseTooLarge(size: number, limit: number): ModelServerError {
  return responseMessageTooLarge(size, limit, SEND_SETTING);
}

/** Sends a status through the call's own method after rewriting a size status (`this` is the call). */
function sendStatusNamingLimits(this: ServerInterceptingCallInterface, status: PartialStatus): void {
  const own = Object.getPrototypeOf(this) as ServerInterceptingCallInterface;
  own.sendStatus.call(this, explainSizeStatus(status));
}

/**
 * grpc-js enforces the message size limits itself, inside the call, and answers RESOURCE_EXHAUSTED with
 * "Received message larger than max (N vs M)", which does not say what to change. Those statuses never pass
 * through an interceptor's responder, so this interceptor, set first, points the call's own `sendStatus` at a
 * shared function (no closure per call) that rewrites them to name the setting. Every other status passes as is.
 *
 * @internal
 */
export const messageLimitInterceptor: ServerInterceptor = (_method, call) => {
  (call as { sendStatus: (status: PartialStatus) => void }).sendStatus = sendStatusNamingLimits;
  return call as unknown as ServerInterceptingCall;
};
