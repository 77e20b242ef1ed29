import type { InferenceEvent } from '../inference/inference-event.interface';
import { EventSampler } from './event.sampler';

const ev = (model: string, status: 'ok' | 'error' = 'ok') => ({ model, status }) as InferenceEvent;

describe('EventSampler', () => {
  it('keeps everything by default', () => {
    const s = new EventSampler();
    expect(s.info).toBeUndefined();
    expect([1, 2, 3].every(() => s.accept(ev('m')))).toBe(true);
  });

  it('keeps every Nth success of each model, the first one included (MLRun log_stream_sample)', () => {
    const s = new EventSampler(3);
    expect(s.info).toEqual({ percentage: 100 / 3, weight: 3 });
    const a = Array.from({ length: 7 }, () => s.accept(ev('a')));
    const b = Array.from({ length: 4 }, () => s.accept(ev('b')));
    expect(a).toEqual([true, false, false, true, false, false, true]);
    expect(b).toEqual([true, false, false, true]);
  });

  it('never samples out a failure, and failures do not move the counter', () => {
    const s = new EventSampler(2);
    expect([s.accept(ev('a')), s.accept(ev('a', 'error')), s.accept(ev('a', 'error')), s.accept(ev('a')), s.accept(ev('a'))]).toEqual([true, true, true, false, true]);
  });

  it('keeps each success with probability p, each kept record weighing 1/p (ClearML)', () => {
    const draws = [0.05, 0.5, 0.2, 0.24, 0.26];
    const s = new EventSampler(1, 0.25, () => draws.shift()!);
    expect(s.info).toEqual({ percentage: 25, weight: 4 });
    expect(Array.from({ length: 5 }, () => s.accept(ev('m')))).toEqual([true, false, true, true, false]);
    expect(s.accept(ev('m', 'error'))).toBe(true);
  });
});
