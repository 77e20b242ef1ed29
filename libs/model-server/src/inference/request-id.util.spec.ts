import { newRequestId } from './request-id.util';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('makes version 4 UUIDs in their text form', () => {
    for (let i = 0; i < 1000; i++) expect(newRequestId()).toMatch(UUID_V4);
  });

  it('makes a different id each time, across refills of its random pool', () => {
    // 256 ids use one pool: 5,000 cross many refills.
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) ids.add(newRequestId());
    expect(ids.size).toBe(5000);
  });

  it('spreads its random digits over every hex value', () => {
    // Digits outside the version and variant positions: each of 16 values appears (a stuck byte would not).
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of newRequestId().replace(/-/g, '')) seen.add(c);
    expect(seen.size).toBe(16);
  });
});
