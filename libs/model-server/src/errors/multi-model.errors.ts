import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { ModelServerError } from './model-server.error';

/** Errors of loading and unloading models at run time (SageMaker's multi-model API). @internal */

/** A load of a name that is loaded, or served from the configuration (409). */
export function modelAlreadyLoaded(name: string): ModelServerError {
  return new ModelServerError(ErrorCode.Conflict, `model '${clip(name)}' is already loaded; unload it first (DELETE /models/${clip(name)})`);
}

/** No room for another model (507): `why` names the budget spent and its setting. */
export function modelBudgetSpent(name: string, why: string): ModelServerError {
  return new ModelServerError(ErrorCode.InsufficientResources, `no room to load model '${clip(name)}': ${why}; unload a model first`);
}

/** A model the multi-model API did not load (404). */
export function modelNotLoaded(name: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotFound, `model '${clip(name)}' is not loaded (GET /models lists the loaded models)`);
}

/** The `url` of a load does not hold a usable model (400): missing, no model module, a bad descriptor. */
export function modelFolderUnusable(name: string, url: string, reason: string): ModelServerError {
  return new ModelServerError(ErrorCode.InvalidRequest, `cannot load model '${clip(name)}' from '${clip(url)}': ${reason}`);
}

/** The model's own load failed (500): the reason it gave; the name stays unloaded. */
export function modelLoadFailed(name: string, reason: string | undefined): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model '${clip(name)}' failed to load${reason ? `: ${reason}` : ''}; it is not loaded`);
}
