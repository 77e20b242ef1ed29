import { RingQueue } from './ring-queue';

describe('RingQueue', () => {
  it('is first in, first out, across growth and wrap-around', () => {
    const q = new RingQueue<number>(1000);
    for (let i = 0; i < 100; i++) q.push(i);
    for (let i = 0; i < 60; i++) expect(q.shift()).toBe(i);
    for (let i = 100; i < 200; i++) q.push(i);
    const out: number[] = [];
    for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
    expect(out).toEqual(Array.from({ length: 140 }, (_, i) => i + 60));
  });

  it('refuses items beyond its capacity and says it is full', () => {
    const q = new RingQueue<string>(2);
    expect(q.push('a')).toBe(true);
    expect(q.push('b')).toBe(true);
    expect(q.full).toBe(true);
    expect(q.push('c')).toBe(false);
    expect(q.drain()).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
  });
});
