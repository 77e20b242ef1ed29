import { ErrorCode } from './error-code.enum';
import { fromErrorFacts, toErrorFacts } from './execution.errors';
import { ModelServerError } from './model-server.error';

describe('error facts (errors crossing a thread)', () => {
  it('a coded error comes back with its code, Retry-After and the field at fault', () => {
    const back = fromErrorFacts(structuredClone(toErrorFacts(new ModelServerError(ErrorCode.InvalidRequest, 'seed must be an integer', { param: 'seed', retryAfterSeconds: 3 }))));
    expect(back).toBeInstanceOf(ModelServerError);
    expect(back).toMatchObject({ code: ErrorCode.InvalidRequest, message: 'seed must be an integer', param: 'seed', retryAfterSeconds: 3 });
  });

  it('any other error comes back uncoded, with its message and the worker\'s stack', () => {
    const err = new TypeError('x is not a function');
    const back = fromErrorFacts(structuredClone(toErrorFacts(err)));
    expect(back).not.toBeInstanceOf(ModelServerError);
    expect([back.message, back.stack]).toEqual(['x is not a function', err.stack]);
  });
});
