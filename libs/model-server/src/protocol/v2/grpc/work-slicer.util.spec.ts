import { runSliced, WorkSlicer, type SlicedWork } from './work-slicer.util';

/** Keeps the thread busy for `ms` (a slice of work). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('runSliced', () => {
  it('lets timers due meanwhile run between the first two slices, though the work started outside the check phase', async () => {
    const events: string[] = [];
    function* work(): SlicedWork<string> {
      events.push('slice 1');
      busy(5);
      yield;
      events.push('slice 2');
      yield;
      events.push('slice 3');
      return 'done';
    }
    const result = await new Promise<string>((resolve) =>
      // started from a timer callback, as work may start from an I/O callback or a nextTick
      setTimeout(() => {
        setTimeout(() => events.push('timer'), 1);
        void Promise.resolve(runSliced(work(), new WorkSlicer())).then(resolve);
      }, 0),
    );
    expect(result).toBe('done');
    expect(events).toEqual(['slice 1', 'timer', 'slice 2', 'slice 3']);
  });

  it('returns the result itself, no promise, when the work never pauses', () => {
    function* work(pause: boolean): SlicedWork<number> {
      if (pause) yield;
      return 42;
    }
    expect(runSliced(work(false), new WorkSlicer())).toBe(42);
  });
});
