import { Buffer } from 'node:buffer';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { clip } from '../../errors/clip.util';
import { statusErrorAnswer } from './http-answer';

/** The HTTP server's timeouts, in milliseconds. @publicApi */
export interface HttpTimeouts {
  /**
   * The whole request, headers and body, must arrive within this time; a client that sends slower (a slowloris
   * upload) is answered 408 and disconnected (default 120 s). Env `RECEIVE_TIMEOUT_MS`.
   */
  receiveTimeoutMs?: number;
  /** The request's headers must arrive within this time (default 20 s; at most `receiveTimeoutMs`). Env `HEADERS_TIMEOUT_MS`. */
  headersTimeoutMs?: number;
  /**
   * A client that stops reading its answer for this long (the answer waits, unsent, in the server's memory)
   * is disconnected and the memory released (default 30 s). Env `SEND_TIMEOUT_MS`.
   */
  sendTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this time (default 72 s). Env `KEEP_ALIVE_TIMEOUT_MS`. */
  keepAliveTimeoutMs?: number;
}

/** The timeouts' defaults. @publicApi */
export const DEFAULT_HTTP_TIMEOUTS: Readonly<Required<HttpTimeouts>> = {
  receiveTimeoutMs: 120_000,
  headersTimeoutMs: 20_000,
  sendTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
};

/** How often the server checks its connections for overdue requests and stalled answers. */
const CHECK_INTERVAL_MS = 1000;

/** The timeouts with defaults applied, the headers' never longer than the whole request's. @internal */
export function resolveHttpTimeouts(timeouts: HttpTimeouts): Required<HttpTimeouts> {
  const t = { ...DEFAULT_HTTP_TIMEOUTS };
  for (const key of Object.keys(t) as (keyof HttpTimeouts)[]) {
    const v = timeouts[key];
    if (v !== undefined) {
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${key} must be a non-negative integer of milliseconds, got ${String(v)}`);
      t[key] = v;
    }
  }
  if (t.receiveTimeoutMs > 0 && (t.headersTimeoutMs === 0 || t.headersTimeoutMs > t.receiveTimeoutMs)) t.headersTimeoutMs = t.receiveTimeoutMs;
  return t;
}

/** The options Node's HTTP server takes for the timeouts it enforces itself. @internal */
export function nodeServerTimeouts(t: Required<HttpTimeouts>): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: t.headersTimeoutMs, requestTimeout: t.receiveTimeoutMs, connectionsCheckingInterval: CHECK_INTERVAL_MS };
}

/**
 * Answers what Node's HTTP parser refuses before any route sees the request (headers too large, malformed HTTP,
 * a request that did not arrive in time) with the server's `{"error": ...}` body, then closes the connection.
 *
 * @internal
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status: number;
  let message: string;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      status = 431;
      message = 'the request headers are larger than the server accepts (Node.js --max-http-header-size, 16 KiB by default)';
      break;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      status = 408;
      message = 'the request did not arrive in time (receiveTimeoutMs / RECEIVE_TIMEOUT_MS, headersTimeoutMs / HEADERS_TIMEOUT_MS)';
      break;
    default:
      status = 400;
      message = `malformed HTTP request (${clip(err.code ?? err.message ?? 'unknown', 60)})`;
  }
  if (socket.writable) {
    // No response object exists yet: the answer is written on the socket as it would be by writeAnswer.
    const { headers, body } = statusErrorAnswer(status, message);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${String(headers['content-type'])}\r\n` +
        `Content-Length: ${Buffer.byteLength(body as string)}\r\nConnection: close\r\n\r\n${body as string}`,
    );
  }
  socket.destroy();
}

/** A TCP socket's native handle: how many bytes the kernel has not yet taken. */
interface TcpHandle {
  writeQueueSize?: number;
}

/**
 * Bytes of a connection's answer not yet handed to the kernel. The stream's `writableLength` counts a large
 * write whole until its last byte is taken, so it cannot tell a slow reader from a stalled one; the native
 * handle's queue size shrinks as the client reads.
 */
function unsentBytes(socket: Socket): number {
  if (socket.writableLength === 0) return 0;
  const queued = (socket as unknown as { _handle?: TcpHandle | null })._handle?.writeQueueSize;
  return typeof queued === 'number' && queued > 0 ? queued : socket.writableLength;
}

/** What the stall check remembers of a connection with unsent bytes. */
interface Pending {
  length: number;
  since: number;
}

/**
 * Disconnects clients that stop reading: every {@link CHECK_INTERVAL_MS} the server looks at the connections
 * whose answer waits, unsent, in its memory, and closes those whose backlog has not shrunk for `sendTimeoutMs`
 * (which releases that memory). A client that reads, however slowly, is left alone. Costs one set entry per
 * connection and one timer per server; nothing per request.
 *
 * @internal
 */
export function closeStalledConnections(server: Server, sendTimeoutMs: number): void {
  if (sendTimeoutMs <= 0) return;
  const sockets = new Set<Socket>();
  const pending = new WeakMap<Socket, Pending>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let timer: NodeJS.Timeout | null = null;
  const check = (): void => {
    const now = Date.now();
    for (const socket of sockets) {
      const length = unsentBytes(socket);
      if (length === 0) {
        pending.delete(socket);
        continue;
      }
      const seen = pending.get(socket);
      if (seen === undefined || length < seen.length) pending.set(socket, { length, since: now });
      else if (now - seen.since >= sendTimeoutMs) socket.destroy();
      else seen.length = length;
    }
  };
  server.on('listening', () => {
    timer ??= setInterval(check, Math.min(CHECK_INTERVAL_MS, sendTimeoutMs));
    timer.unref();
  });
  server.on('close', () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  });
}
