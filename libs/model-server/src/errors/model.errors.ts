import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { isModelServerError, ModelServerError } from './model-server.error';

/** Errors of the model's own code and of the server itself (500). @internal */

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

/** Anything a model (or a router's member) threw, as a coded error: coded errors as they are, others a model error with their text. */
export function asModelError(err: unknown): ModelServerError {
  if (isModelServerError(err)) return err;
  return new ModelServerError(ErrorCode.ModelError, err instanceof Error ? err.message : String(err), { cause: err });
}

/** Anything thrown, as a coded error: coded errors as they are, others an internal fault with their text. */
export function asInternalError(err: unknown): ModelServerError {
  return isModelServerError(err) ? err : new ModelServerError(ErrorCode.Internal, err instanceof Error ? err.message : String(err));
}

/** A model hook returned something that is not an inference result (`label` as messages name the model). */
export function notAnInferenceResult(label: string, stage: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model ${label}: ${stage} must return { outputs: [...] }`);
}

/** A model returned an output whose element type the v2 protocol has no datatype for. */
export function outputTypeUnsupported(name: string, type: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `output '${name}' has element type ${type}, which the v2 protocol cannot carry`);
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
