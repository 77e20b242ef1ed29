import { Buffer } from 'node:buffer';
import {
  status as GrpcStatus,
  type ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { inflateMessage } from './grpc-message.inflater';
import { GrpcMessageReader } from './grpc-message.reader';

type PartialStatus = Pick<StatusObject, 'code' | 'details'> & Partial<Pick<StatusObject, 'metadata'>>;

/** How users raise the receive limit, for the messages. */
const RECEIVE_SETTING =
  'raise maxReceiveMessageBytes of ModelServerGrpcModule (nest-model-server CLI: GRPC_MAX_MESSAGE_BYTES, --grpc-max-message-bytes or grpcMaxMessageBytes in the config)';
/**
 * How users raise the send limit: named by grpc-js's own status (rewritten here) and by the encoder, which finds a
 * response too large before it builds it. @internal
 */
export const SEND_SETTING =
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

/** Sends a status through the call's own method after rewriting a size status (`this` is the call). */
function sendStatusNamingLimits(this: ServerInterceptingCallInterface, status: PartialStatus): void {
  const own = Object.getPrototypeOf(this) as ServerInterceptingCallInterface;
  own.sendStatus.call(this, explainSizeStatus(status));
}

/**
 * What the interceptor replaces in grpc-js's call: the decoder that cuts incoming frames into messages, and the
 * method that inflates a compressed message.
 */
interface CallInternals {
  decoder?: { write?: unknown };
  decompressMessage?: unknown;
}

/** The request message as grpc-js's call expects it, from `message` (5-byte prefix on); `this` is the call. */
function decompressInSlices(this: CallInternals, message: Buffer, encoding: string): Buffer | Promise<Buffer> {
  if (encoding === 'identity') return message.subarray(5);
  if (encoding === 'gzip' || encoding === 'deflate') return inflateMessage(message, encoding, (this.decoder as GrpcMessageReader).maxMessageBytes);
  const own = Object.getPrototypeOf(this) as { decompressMessage: (message: Buffer, encoding: string) => Promise<Buffer> };
  return own.decompressMessage.call(this, message, encoding); // grpc-js's UNIMPLEMENTED for other encodings
}

/**
 * Gives a call (grpc-js's own, the first interceptor's) a {@link GrpcMessageReader} in place of grpc-js's
 * decoder, so large messages are assembled as their frames arrive instead of in one block at the end, and an
 * inflater that joins a compressed message's inflated pieces in time slices ({@link inflateMessage}). Both are
 * private members of grpc-js's call: when a grpc-js version lacks them, the call keeps its own and this answers
 * false (message-limit.interceptor.spec.ts fails then, on a real call).
 *
 * @internal
 */
export function readMessagesAsTheyArrive(call: object, maxReceiveMessageBytes: number): boolean {
  const c = call as CallInternals;
  if (typeof c.decoder?.write !== 'function' || typeof c.decompressMessage !== 'function') return false;
  c.decoder = new GrpcMessageReader(maxReceiveMessageBytes);
  c.decompressMessage = decompressInSlices;
  return true;
}

/**
 * The first interceptor of the server, for two things grpc-js does inside the call that no interceptor's
 * responder or listener sees:
 *
 * - it enforces the message size limits itself and answers RESOURCE_EXHAUSTED with "Received message larger
 *   than max (N vs M)", which does not say what to change: the call's own `sendStatus` is pointed at a shared
 *   function (no closure per call) that rewrites those statuses to name the setting; every other status
 *   passes as is;
 * - it joins each incoming message's frames (and a compressed message's inflated pieces) in one copy, which
 *   blocks the event loop for hundreds of milliseconds near the 64 MiB default limit: the call reads its
 *   messages with a {@link GrpcMessageReader} and inflates them with {@link inflateMessage} instead, which
 *   enforce the same receive limit ({@link readMessagesAsTheyArrive}).
 *
 * @internal
 */
export function messageLimitInterceptor(maxReceiveMessageBytes: number): ServerInterceptor {
  return (_method, call) => {
    (call as { sendStatus: (status: PartialStatus) => void }).sendStatus = sendStatusNamingLimits;
    readMessagesAsTheyArrive(call, maxReceiveMessageBytes);
    return call as unknown as ServerInterceptingCall;
  };
}
