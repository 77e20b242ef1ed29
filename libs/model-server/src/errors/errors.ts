import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { isModelServerError, ModelServerError } from './model-server.error';

/** Factories for the catalogue's errors, so every message is written in one place. @internal */

export function invalidRequest(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, message);
}

export function modelNotFound(name: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${clip(name)}' is not served here (GET /v2/models lists the models)`);
}

export function versionNotFound(name: string, version: string, known: readonly string[]): ModelServerError {
  const list = known.length > 0 ? `; its versions are ${known.map((v) => `'${v}'`).join(', ')}` : '; it has no versions';
  return new ModelServerError(ErrorCode.NotFound, `model '${clip(name)}' has no version '${clip(version)}'${clip(list)}`);
}

export function operationNotFound(name: string, op: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${clip(name)}' has no operation '${clip(op)}'`);
}

export function routeNotFound(method: string, url: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `no route ${clip(method, 20)} ${clip(url)}`);
}

export function modelNotReady(label: string, state: string, reason?: string, retryAfterSeconds?: number): ModelServerError {
  const why = reason ? `: ${reason}` : '';
  return new ModelServerError(ErrorCode.NotReady, `model ${label} is not ready (${state})${why}`, { retryAfterSeconds });
}

export function overloaded(what: string, limit: number, setting: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.Overloaded,
    `${what} already has ${limit} requests in flight, its limit (${setting}); retry shortly`,
    { retryAfterSeconds: 1 },
  );
}

export function deadlineExceeded(stage: string): ModelServerError {
  return new ModelServerError(ErrorCode.DeadlineExceeded, `the request's deadline passed during ${stage}`);
}

/**
 * Model code threw something uncoded (500). The client learns which model failed, in which stage, and the request
 * id to find the details by; the thrown error is kept as `cause`, which transports log and put in answers only
 * in `debug` mode (a model's own error text may hold paths, data or internals).
 */
export function modelError(label: string, stage: string, err: unknown, requestId: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.ModelError,
    `model ${label} failed in ${stage} (request ${clip(requestId)}); details are in the server log`,
    { cause: err },
  );
}

/**
 * An error's text for the server's own records (logs, monitoring records), never for clients: the message, and
 * for a server-side failure (500) the underlying error it keeps as `cause` (the model's own error text).
 */
export function errorDetail(err: ModelServerError): string {
  if (err.code !== ErrorCode.ModelError && err.code !== ErrorCode.Internal) return err.message;
  const cause = err.cause;
  if (cause === undefined) return err.message;
  const text = cause instanceof Error ? cause.message : String(cause);
  return `${err.message} (cause: ${clip(text, 2000)})`;
}

/** A count in the request is over its configured limit (400, naming the setting). */
export function limitExceeded(what: string, limit: number, setting: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, `${what}; the limit is ${limit} (${setting})`);
}

/** The decoded tensors of a request would take more memory than the per-request budget (413). */
export function tensorBudgetExceeded(where: string, bytes: number, limit: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.PayloadTooLarge,
    `${where} would take ${bytes} bytes decoded, over what is left of the request's ${limit}-byte budget for tensors (maxTensorBytes)`,
  );
}

/** The server holds as many request bytes as it may at once (503, retry shortly). */
export function byteBudgetExhausted(bytes: number, limit: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.Overloaded,
    `the server is already decoding and serving ${limit} bytes of requests, its limit (maxRequestBytesInFlight); this ${bytes}-byte request can be retried shortly`,
    { retryAfterSeconds: 1 },
  );
}

/** Repository load / unload while model control is off (403): Triton's stance, control is opt-in. */
export function modelControlDisabled(action: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.Forbidden,
    `model control is off, so models cannot be ${action} through the API; start the server with modelControl: true (MODEL_CONTROL=1) to allow it`,
  );
}

/** A request without valid credentials (401). */
export function unauthenticated(): ModelServerError {
  return new ModelServerError(ErrorCode.Unauthenticated, 'missing or invalid credentials: send "Authorization: Bearer <token>" or the API-key header');
}

/** A body over the configured limit (413). */
export function payloadTooLarge(maxBodyBytes: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.PayloadTooLarge,
    `the request body is larger than ${maxBodyBytes} bytes, the limit (set maxBodyBytes in the config or MAX_BODY_BYTES)`,
  );
}

/** A body whose content type the route does not read (415); `accepted` says what it reads. */
export function unsupportedContentType(type: string | undefined, accepted: string): ModelServerError {
  const got = type === undefined || type.trim() === '' ? 'no content type' : `content type '${clip(type.trim(), 100)}'`;
  return new ModelServerError(ErrorCode.UnsupportedMediaType, `${got} is not supported here; ${accepted}`);
}

/** In-process calls (ctx.infer) nested deeper than the server allows: most likely a cycle. */
export function callsTooDeep(limit: number, name: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.ModelError,
    `in-process calls nest deeper than ${limit} levels (calling '${name}'): do the models call each other in a cycle?`,
  );
}

/** A model's SageMaker hooks, as declared, are not usable. */
export function sageMakerHooksInvalid(label: string, problems: readonly string[]): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model ${label} declares invalid SageMaker hooks: ${problems.join('; ')}`);
}

/** A model's SageMaker `input()` returned something that is not a v2 request. */
export function sageMakerInputInvalid(label: string, reason: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model ${label}: input() must return a v2 request { inputs: [...] }: ${reason}`);
}

/** A model's SageMaker `output()` returned something that is not a body with its content type. */
export function sageMakerOutputInvalid(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model ${label}: output() must return { body: string | Buffer, contentType: string } or undefined`);
}

/** A member route (`/v2/models/:model/:member/infer`) on a model that is not a router (404). */
export function notARouter(model: string, member: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${model}' is not a router, so it has no member '${member}'`);
}

/** A model's `explain` route when the model does not implement it (404). */
export function explainNotImplemented(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model ${label} does not implement explain`);
}

/** A coded error as it is; anything else thrown as an internal error (500), its text kept. */
export function asInternalError(err: unknown): ModelServerError {
  return isModelServerError(err) ? err : new ModelServerError(ErrorCode.Internal, err instanceof Error ? err.message : String(err));
}
