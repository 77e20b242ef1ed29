import { logHttpFault } from './http-status.map';
import { deadlineExceeded, invalidRequest, modelError, tooManyInFlight } from '../../errors';

/** A logger that keeps what it is told. */
function recorder() {
  const lines: { level: string; message: string; stack?: string }[] = [];
  return {
    lines,
    error: (message: string, stack?: string) => lines.push({ level: 'error', message, stack }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
  };
}

describe('logHttpFault', () => {
  it('logs a passed deadline as one warning line, without a stack', () => {
    const log = recorder();
    const err = deadlineExceeded('predict');
    logHttpFault(log, 'POST', '/v2/models/m/infer', err);
    expect(log.lines).toEqual([{ level: 'warn', message: "POST /v2/models/m/infer → 504: the request's deadline passed during predict" }]);
  });

  it('logs a model failure as an error with the stack of what the model threw', () => {
    const log = recorder();
    const thrown = new Error('weights are NaN');
    const err = modelError("'m'", 'predict', thrown, 'r-7');
    logHttpFault(log, 'POST', '/v2/models/m/infer', err);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0].level).toBe('error');
    expect(log.lines[0].message).toMatch(/→ 500: .*weights are NaN/);
    expect(log.lines[0].stack).toBe(thrown.stack);
  });

  it('does not log client mistakes or a full server, and clips a long URL', () => {
    const log = recorder();
    for (const err of [invalidRequest('bad'), tooManyInFlight('the server', 1, 'maxInFlight')]) logHttpFault(log, 'POST', '/x', err);
    expect(log.lines).toEqual([]);
    const err = new Error('boom');
    logHttpFault(log, 'GET', `/${'a'.repeat(100_000)}`, err);
    expect(log.lines[0].message.length).toBeLessThan(400);
  });
});
