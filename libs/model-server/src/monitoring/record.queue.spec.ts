import type { MonitoringRecord } from './monitoring-record.interface';
import { RecordQueue } from './record.queue';

const r = (body: string): MonitoringRecord => ({ body });
const bodies = (rs: MonitoringRecord[]) => rs.map((x) => x.body);

describe('RecordQueue', () => {
  it('hands records out oldest first, in batches', () => {
    const q = new RecordQueue(10, 1 << 20, 'drop-oldest');
    for (const b of ['a', 'b', 'c']) expect(q.push(r(b))).toBe(0);
    expect(bodies(q.take(2))).toEqual(['a', 'b']);
    expect(q.size).toBe(1);
    expect(bodies(q.take(5))).toEqual(['c']);
    expect(q.size).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('drop-oldest: a full queue drops from the head to make room', () => {
    const q = new RecordQueue(3, 1 << 20, 'drop-oldest');
    const dropped = ['a', 'b', 'c', 'd', 'e'].map((b) => q.push(r(b)));
    expect(dropped).toEqual([0, 0, 0, 1, 1]);
    expect(bodies(q.take(3))).toEqual(['c', 'd', 'e']);
  });

  it('drop-newest: a full queue refuses the newcomer', () => {
    const q = new RecordQueue(3, 1 << 20, 'drop-newest');
    const dropped = ['a', 'b', 'c', 'd', 'e'].map((b) => q.push(r(b)));
    expect(dropped).toEqual([0, 0, 0, 1, 1]);
    expect(bodies(q.take(3))).toEqual(['a', 'b', 'c']);
  });

  it('is bounded by bytes as well as by count', () => {
    const q = new RecordQueue(100, 2 * (100 + 64), 'drop-oldest');
    q.push(r('x'.repeat(100)));
    q.push(r('y'.repeat(100)));
    expect(q.push(r('z'.repeat(100)))).toBe(1);
    expect(q.size).toBe(2);
    expect(q.push(r('w'.repeat(10_000)))).toBe(1); // bigger than the whole buffer: dropped alone
    expect(bodies(q.take(2)).map((b) => b[0])).toEqual(['y', 'z']);
  });

  it('takes records back at the head, in order, wrapping around the ring', () => {
    const q = new RecordQueue(4, 1 << 20, 'drop-oldest');
    q.push(r('a'));
    q.push(r('b'));
    const batch = q.take(2);
    q.push(r('c'));
    expect(q.unshift(batch)).toBe(0);
    expect(bodies(q.take(4))).toEqual(['a', 'b', 'c']);
  });

  it('returning records that do not fit: drop-oldest drops them, drop-newest drops the newest queued', () => {
    const oldest = new RecordQueue(3, 1 << 20, 'drop-oldest');
    ['c', 'd'].forEach((b) => oldest.push(r(b)));
    expect(oldest.unshift([r('a'), r('b')])).toBe(1);
    expect(bodies(oldest.take(3))).toEqual(['b', 'c', 'd']);

    const newest = new RecordQueue(3, 1 << 20, 'drop-newest');
    ['c', 'd'].forEach((b) => newest.push(r(b)));
    expect(newest.unshift([r('a'), r('b')])).toBe(1);
    expect(bodies(newest.take(3))).toEqual(['a', 'b', 'c']);
  });
});
