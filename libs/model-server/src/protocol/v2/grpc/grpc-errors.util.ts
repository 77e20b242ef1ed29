import { clip } from '../../../errors/clip.util';
import { ErrorCode } from '../../../errors/error-code.enum';
import { ModelServerError } from '../../../errors/model-server.error';

/** The client cancelled the call (or its deadline passed) while the server was still reading its message. @internal */
export function callCancelled(): ModelServerError {
  return new ModelServerError(ErrorCode.Cancelled, 'the client cancelled the call before its message was read');
}

/** RepositoryModelLoad: the model was (re)loaded, but a version of it is not ready. @internal */
export function modelDidNotLoad(name: string, version: string | undefined, state: string, reason: string | undefined): ModelServerError {
  const which = version === undefined ? `'${clip(name)}'` : `'${clip(name)}' version '${clip(version)}'`;
  return new ModelServerError(ErrorCode.NotReady, `model ${which} did not load (${state})${reason ? `: ${reason}` : ''}`);
}

/** Text of anything thrown, for a log line (never throws itself, whatever was thrown). @internal */
export function thrownText(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return clip(String(err));
  } catch {
    return 'a value that is not an Error';
  }
}
