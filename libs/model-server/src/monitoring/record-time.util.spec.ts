import { mlrunWhen, rfc3339 } from './record-time.util';

describe('mlrunWhen (MLRun `when`)', () => {
  it('is Python isoformat(sep=" ", timespec="microseconds") in UTC', () => {
    expect(mlrunWhen(Date.UTC(2024, 9, 23, 10, 15, 52, 123) + 0.456)).toBe('2024-10-23 10:15:52.123456+00:00');
  });

  it('always writes six fraction digits, never Z, even on a whole second', () => {
    expect(mlrunWhen(Date.UTC(2026, 0, 5, 9, 12, 33))).toBe('2026-01-05 09:12:33.000000+00:00');
    expect(mlrunWhen(Date.UTC(2026, 0, 5, 9, 12, 33, 7) + 0.005)).toBe('2026-01-05 09:12:33.007005+00:00');
    expect(mlrunWhen(Date.UTC(2026, 0, 5, 9, 12, 33, 7) + 0.05)).toBe('2026-01-05 09:12:33.007050+00:00');
  });

  it('rounds to the microsecond, carrying into the millisecond', () => {
    expect(mlrunWhen(Date.UTC(2026, 0, 5, 23, 59, 59, 999) + 0.9999)).toBe('2026-01-06 00:00:00.000000+00:00');
  });

  it('sorts as strings in time order (MLRun compares them as strings)', () => {
    const times = [0, 0.001, 0.5, 1, 999.999, 1000].map((d) => mlrunWhen(Date.UTC(2026, 0, 5) + d));
    expect([...times].sort()).toEqual(times);
  });
});

describe('rfc3339 (CloudEvents `time`)', () => {
  it('is ISO 8601 UTC with milliseconds', () => {
    expect(rfc3339(Date.UTC(2026, 0, 5, 9, 12, 33, 104) + 0.512)).toBe('2026-01-05T09:12:33.104Z');
  });
});
