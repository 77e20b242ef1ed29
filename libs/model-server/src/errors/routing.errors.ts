import { ErrorCode } from './error-code.enum';
import { ModelServerError } from './model-server.error';

/** Errors of routers and their members. @internal */

/** A member route (`/v2/models/:model/:member/infer`) on a model that is not a router (404). */
export function notARouter(model: string, member: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${model}' is not a router, so it has no member '${member}'`);
}

/** A router asked for a member it does not have (404), listing the ones it has. */
export function memberNotFound(router: string, member: string, members: readonly string[]): ModelServerError {
  return new ModelServerError(
    ErrorCode.NotFound,
    `router '${router}' has no member '${member}'; its members are ${members.map((m) => `'${m}'`).join(', ')}`,
  );
}

/** A member's failure as the router's: the member's status and retry hint, the router and member named. */
export function memberFailed(router: string, member: string, error: ModelServerError): ModelServerError {
  return new ModelServerError(error.code, `router '${router}': member '${member}' failed: ${error.message}`, {
    retryAfterSeconds: error.retryAfterSeconds,
    cause: error,
  });
}

/** Two members of a parallel run produce an output of the same name. */
export function outputClash(router: string, first: string, second: string, output: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.ModelError,
    `router '${router}': members '${first}' and '${second}' both produce output '${output}'; ` +
      `set parameters.merge to 'prefix' or override merge()`,
  );
}
