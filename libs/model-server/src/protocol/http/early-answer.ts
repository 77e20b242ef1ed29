import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

/**
 * How long a connection keeps reading, and discarding, the rest of a request body it answered before reading
 * it (a 413 on its Content-Length, a refused credential). Long enough for any client to read the answer.
 */
const EARLY_ANSWER_LINGER_MS = 5000;

/** True while a request announced a body that has not all arrived. */
function bodyStillComing(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Keeps the connection of an answer sent before its request body was read open while the client still sends.
 *
 * Closing such a connection at once (what Fastify asks for with `Connection: close` when a body is over the
 * limit) leaves unread bytes in the server's socket, so the kernel resets the connection, and the reset can
 * reach the client before the answer does: the client then sees a broken connection instead of the 413. Here
 * the answer keeps the connection alive, Node discards the rest of the body, and the connection is reusable
 * once the body has all arrived; a client still sending after {@link EARLY_ANSWER_LINGER_MS} is disconnected.
 *
 * Only an error can be answered before the body is read (every route reads it before it succeeds), so the
 * answer writer calls this for error answers alone, and a successful answer pays nothing for the rule.
 *
 * @internal
 */
export function lingerOnEarlyAnswer(reply: FastifyReply): void {
  const req = reply.request.raw;
  const socket = req.socket;
  // `app.inject` requests have no connection to keep.
  if (!(socket instanceof Socket) || !bodyStillComing(req)) return;
  reply.removeHeader('connection');
  const timer = setTimeout(() => socket.destroy(), EARLY_ANSWER_LINGER_MS);
  timer.unref();
  // Both listeners go once either fires: a keep-alive connection may see many early answers.
  const stop = () => {
    clearTimeout(timer);
    req.removeListener('end', stop);
    socket.removeListener('close', stop);
  };
  req.once('end', stop);
  socket.once('close', stop);
}
