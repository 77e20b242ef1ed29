import { status } from '@grpc/grpc-js';
import { ErrorCode, GrpcCode } from '../../../errors';
import { ModelServerError } from '../../../errors/model-server.error';
import { toGrpcError } from './grpc-status.map';

describe('the error catalogue as gRPC status codes', () => {
  it.each<[ErrorCode, status]>([
    [ErrorCode.InvalidRequest, status.INVALID_ARGUMENT],
    [ErrorCode.Unauthenticated, status.UNAUTHENTICATED],
    [ErrorCode.NotFound, status.NOT_FOUND],
    [ErrorCode.PayloadTooLarge, status.RESOURCE_EXHAUSTED],
    [ErrorCode.NotReady, status.UNAVAILABLE],
    [ErrorCode.Overloaded, status.UNAVAILABLE],
    [ErrorCode.Conflict, status.ALREADY_EXISTS],
    [ErrorCode.InsufficientResources, status.RESOURCE_EXHAUSTED],
    [ErrorCode.DeadlineExceeded, status.DEADLINE_EXCEEDED],
    [ErrorCode.Cancelled, status.CANCELLED],
    [ErrorCode.ModelError, status.INTERNAL],
    [ErrorCode.Internal, status.INTERNAL],
  ])('%s is %s', (code, expected) => {
    expect(toGrpcError(new ModelServerError(code, 'why'), false).error).toMatchObject({ code: expected, details: 'why' });
  });

  it("the catalogue's numeric status codes are grpc-js's", () => {
    for (const [name, value] of Object.entries(GrpcCode)) expect(status[name as keyof typeof status]).toBe(value);
  });

  it('sends retry-after as a trailer and flags only server faults', () => {
    const busy = toGrpcError(new ModelServerError(ErrorCode.NotReady, 'loading', { retryAfterSeconds: 5 }), false);
    expect(busy.error.metadata?.get('retry-after')).toEqual(['5']);
    expect(busy.serverFault).toBe(false);
    expect(toGrpcError(new ModelServerError(ErrorCode.ModelError, 'bug'), false).serverFault).toBe(true);
    expect(toGrpcError(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'), false).serverFault).toBe(false);
  });

  it('hides uncoded errors behind a generic INTERNAL unless debug is on', () => {
    const hidden = toGrpcError(new Error('secret detail'), false);
    expect(hidden.error).toMatchObject({ code: status.INTERNAL, details: 'internal server error' });
    expect(toGrpcError(new Error('secret detail'), true).error.details).toMatch(/secret detail/);
    const model = toGrpcError(new ModelServerError(ErrorCode.ModelError, 'model failed', { cause: new Error('inner') }), true);
    expect(model.error.details).toMatch(/^model failed\nError: inner/);
  });
});
