import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { ModelServerError } from './model-server.error';

/** Errors of requests the client got wrong: malformed, unknown, too large, unreadable, refused. @internal */

export function invalidRequest(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, message);
}

/** A 400 about one field of the request body, `param` (named in OpenAI's error body). */
export function invalidParameter(param: string, message: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, message, { param });
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

/** A model without an `explain` hook asked to explain (404). */
export function explainNotImplemented(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model ${label} does not implement explain`);
}

/** A model that does not stream (no `predictStream`) asked on a streaming route (404), naming what it answers. */
export function streamingNotImplemented(label: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.NotFound,
    `model ${label} does not stream (it has no predictStream); it answers whole results: /infer, /generate, gRPC ModelInfer`,
  );
}

/** A streaming model whose executor runs it elsewhere (worker threads) and cannot stream from there (500). */
export function streamingNotInWorkers(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.Internal, `model ${label} runs in worker threads whose executor cannot stream; serve it in process or with loadInMainThread`);
}

/** A model that has not opted into text generation (no `textGeneration` adapter) asked on a text route (404). */
export function textGenerationNotImplemented(name: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${clip(name)}' does not take text prompts (it declares no textGeneration adapter); it answers the v2 routes`);
}

/** A request no route takes (404): its method and path, quoted, the query string left out. */
export function routeNotFound(method: string, url: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `no route ${clip(method, 20)} ${clip(url.split('?')[0])}`);
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

/** A compressed body that inflates past the body limit (413). */
export function inflatedTooLarge(encoding: string, maxBodyBytes: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.PayloadTooLarge,
    `the ${encoding} body inflates to more than ${maxBodyBytes} bytes, the limit (maxBodyBytes / MAX_BODY_BYTES)`,
  );
}

/** A response the transport found larger than its send limit, before it was allocated (413 / RESOURCE_EXHAUSTED). */
export function responseTooLarge(size: number, limit: number, setting: string): ModelServerError {
  return new ModelServerError(ErrorCode.PayloadTooLarge, `the response message is ${size} bytes, over the server's limit of ${limit} bytes: ${setting}`);
}

/** A body whose content type the route does not read (415); `accepted` says what it reads. */
export function unsupportedContentType(type: string | undefined, accepted: string): ModelServerError {
  const got = type === undefined || type.trim() === '' ? 'no content type' : `content type '${clip(type.trim(), 100)}'`;
  return new ModelServerError(ErrorCode.UnsupportedMediaType, `${got} is not supported here; ${accepted}`);
}

/** A v2 body in a content encoding the server does not inflate (415). */
export function unsupportedContentEncoding(encoding: string): ModelServerError {
  return new ModelServerError(ErrorCode.UnsupportedMediaType, `content encoding '${clip(encoding, 60)}' is not supported; use gzip, deflate or none`);
}

/** A SageMaker invocation in any content encoding (415): the contract sends bodies uncompressed. */
export function invocationEncodingUnsupported(encoding: string): ModelServerError {
  return new ModelServerError(ErrorCode.UnsupportedMediaType, `content encoding '${clip(encoding, 60)}' is not supported on /invocations; send the body uncompressed`);
}

/** A compressed body that does not inflate (400). */
export function invalidEncodedBody(encoding: string, reason: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, `the body is not valid ${encoding} data: ${reason}`);
}

/** An empty body that claims a content encoding (400): zero bytes are not valid gzip or deflate data. */
export function emptyEncodedBody(encoding: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, `the body is empty but says it is ${clip(encoding.trim(), 40)}-encoded; send the encoded body, or no Content-Encoding`);
}

/** A binary-framed body whose JSON-length header does not fit the body (400). */
export function binaryFramingMismatch(header: string, value: string, bodyBytes: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.InvalidRequest,
    `${header} is '${clip(value, 40)}' but the body has ${bodyBytes} bytes; it must be the JSON part's length`,
  );
}
