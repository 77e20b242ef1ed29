import { ErrorCode, ModelServerError, queueFull } from '../../errors';
import { errorAnswer, statusErrorAnswer } from './http-answer';

describe('the HTTP error answer', () => {
  it("is the catalogue's status, the {\"error\"} body and the code's default Retry-After", () => {
    expect(errorAnswer(queueFull("'m'", 'batch queue', 2), false)).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' },
      body: JSON.stringify({ error: "model 'm' is overloaded: 2 requests already wait in its batch queue (maxQueue); retry later" }),
    });
    expect(errorAnswer(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'), false)).toMatchObject({ status: 504, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(errorAnswer(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'), false).headers['retry-after']).toBeUndefined();
  });

  it('hides an uncoded error unless debug is on', () => {
    expect(errorAnswer(new Error('secret'), false)).toMatchObject({ status: 500, body: '{"error":"internal server error"}' });
    expect(String(errorAnswer(new Error('secret'), true).body)).toMatch(/secret/);
  });

  it('has the same shape for a status the catalogue does not choose', () => {
    expect(statusErrorAnswer(431, 'headers too large')).toEqual({
      status: 431,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"error":"headers too large"}',
    });
  });
});
