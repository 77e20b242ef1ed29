import { runInSlices, SLICE_MS, type SlicedWork } from './time-slice.util';

/** Work that burns `totalMs` of CPU, a millisecond at a time, stopping at each deadline. */
function busyWork(totalMs: number, log: string[], name: string): SlicedWork & { steps: number } {
  let left = totalMs;
  return {
    steps: 0,
    step(deadline: number): boolean {
      this.steps++;
      while (left > 0) {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // burn
        }
        left--;
        if (performance.now() > deadline) break;
      }
      if (left === 0) log.push(name);
      return left === 0;
    },
  };
}

describe('runInSlices', () => {
  it('shares one budget per event-loop turn among all the work in flight, oldest first', async () => {
    const finished: string[] = [];
    const works = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => busyWork(4 * SLICE_MS, finished, name));
    const steps = () => works.reduce((n, w) => n + w.steps, 0);
    // A probe that runs once per turn of the event loop and counts the steps taken since its last run. (Counted,
    // not timed: a wall-clock bound fails whenever the test shares its core with other work.)
    let seen = 0;
    let most = 0;
    let probing = true;
    const probe = (): void => {
      const now = steps();
      most = Math.max(most, now - seen);
      seen = now;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    await Promise.all(works.map((w) => runInSlices(w)));
    probing = false;
    // Six bodies of work each needing four slices: per-body budgets would step all six in one turn. A shared
    // budget steps the oldest until the slice is spent (two when one finishes and the next starts in the same turn).
    expect(most).toBeLessThanOrEqual(2);
    expect(finished).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(works.every((w) => w.steps >= 4)).toBe(true);
  });

  it('rejects with the error a step throws, and the other work still finishes', async () => {
    const finished: string[] = [];
    const failing: SlicedWork = {
      step() {
        throw new Error('bad element');
      },
    };
    const other = busyWork(2, finished, 'other');
    const results = await Promise.allSettled([runInSlices(failing), runInSlices(other)]);
    expect(results[0]).toEqual({ status: 'rejected', reason: new Error('bad element') });
    expect(results[1].status).toBe('fulfilled');
    expect(finished).toEqual(['other']);
  });
});
