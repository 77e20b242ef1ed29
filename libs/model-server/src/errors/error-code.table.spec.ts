import { ErrorCode } from './error-code.enum';
import { ERROR_CODES, errorCodeFacts, GrpcCode } from './error-code.table';
import { errorLogLevel } from './error-log.util';
import { ModelServerError } from './model-server.error';
import { byteBudgetExhausted, queueFull, tooManyInFlight } from './availability.errors';

describe('the error catalogue table', () => {
  const codes = Object.values(ErrorCode);
  const grpcCodes = new Set<number>(Object.values(GrpcCode));

  it.each(codes)('%s has an HTTP error status, a gRPC status and a fault flag', (code) => {
    const facts = ERROR_CODES[code];
    expect(Number.isInteger(facts.httpStatus) && facts.httpStatus >= 400 && facts.httpStatus <= 599).toBe(true);
    expect(grpcCodes.has(facts.grpcStatus)).toBe(true);
    expect(typeof facts.serverFault).toBe('boolean');
    expect(typeof facts.warn).toBe('boolean');
    expect(facts.serverFault && facts.warn).toBe(false);
  });

  it('has a row for every code and none for anything else', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual([...codes].sort());
  });

  it('counts as server faults exactly the 500s (INTERNAL over gRPC)', () => {
    for (const code of codes) {
      const facts = ERROR_CODES[code];
      expect([code, facts.serverFault]).toEqual([code, facts.httpStatus === 500]);
      expect([code, facts.grpcStatus === GrpcCode.INTERNAL]).toEqual([code, facts.serverFault]);
    }
  });

  it('logs a passed deadline as a warning and a fault as an error, whatever the transport', () => {
    expect(errorLogLevel(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'))).toBe('warn');
    expect(errorLogLevel(new ModelServerError(ErrorCode.ModelError, 'bug'))).toBe('error');
    expect(errorLogLevel(new ModelServerError(ErrorCode.Internal, 'bug'))).toBe('error');
    expect(errorLogLevel(new Error('uncoded'))).toBe('error');
    for (const code of [ErrorCode.InvalidRequest, ErrorCode.NotFound, ErrorCode.NotReady, ErrorCode.Overloaded, ErrorCode.Cancelled]) {
      expect([code, errorLogLevel(new ModelServerError(code, 'x'))]).toEqual([code, undefined]);
    }
  });

  it("gives an error the code's default Retry-After unless it says otherwise", () => {
    expect(new ModelServerError(ErrorCode.Overloaded, 'full').retryAfterSeconds).toBe(ERROR_CODES[ErrorCode.Overloaded].retryAfterSeconds);
    expect(new ModelServerError(ErrorCode.Overloaded, 'full', { retryAfterSeconds: 7 }).retryAfterSeconds).toBe(7);
    expect(new ModelServerError(ErrorCode.NotReady, 'loading').retryAfterSeconds).toBeUndefined();
    expect(new ModelServerError(ErrorCode.InvalidRequest, 'bad').retryAfterSeconds).toBeUndefined();
    for (const err of [tooManyInFlight('the server', 4, 'maxInFlight'), queueFull("'m'", 'batch queue', 8), byteBudgetExhausted(10, 5)]) {
      expect(err.retryAfterSeconds).toBe(1);
    }
  });

  it('reads an unknown code (a foreign error claiming one) as an internal fault', () => {
    expect(errorCodeFacts('NOT_A_CODE' as ErrorCode)).toBe(ERROR_CODES[ErrorCode.Internal]);
  });
});
