import { clip } from '../../../errors/clip.util';

/** Text of anything thrown, for a log line (never throws itself, whatever was thrown). @internal */
export function thrownText(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return clip(String(err));
  } catch {
    return 'a value that is not an Error';
  }
}
