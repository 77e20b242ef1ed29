import { ModelServerError } from '../../libs/model-server/src/errors/model-server.error';

/** The coded error `fn` throws; anything else it throws, or nothing thrown, fails the test. */
export function errorOf(fn: () => unknown): ModelServerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ModelServerError) return err;
    throw err;
  }
  throw new Error('expected a ModelServerError');
}
