import { performance } from 'node:perf_hooks';
/**
 * Work on large bodies runs in slices of about this many milliseconds, the event loop served between them
 * (health probes, other requests). Far below the 100 ms a request may block the loop, with room for a noisy host:
 * a probe waits for the rest of a slice, the socket work between slices, and a collector step that runs inside a
 * slice; with 10 ms slices its p99 under 16 streams of 2.5 MB JSON was 19–21 ms, with 5 ms 17–19 ms. A turn of
 * the loop between slices costs some microseconds.
 *
 * @internal
 */
export const SLICE_MS = 5;

/** Work done in slices: each `step` runs until it is done (true) or `deadline` (`performance.now()`) has passed. @internal */
export interface SlicedWork {
  step(deadline: number): boolean;
}

/** A {@link SlicedWork} waiting for its next slice, and its promise's settlers. */
interface Job {
  work: SlicedWork;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Work waiting for a slice, oldest first (the oldest is finished first: its request's answer comes soonest). */
const waiting: Job[] = [];
let drainScheduled = false;

/**
 * One turn's slices: the waiting work runs, oldest first, until {@link SLICE_MS} is spent, then the event loop
 * polls I/O before the next turn. Work that a finished slice starts (a continuation) waits for the next turn.
 */
function drain(): void {
  drainScheduled = false;
  const deadline = performance.now() + SLICE_MS;
  do {
    const job = waiting[0];
    let done: boolean;
    try {
      done = job.work.step(deadline);
    } catch (err) {
      waiting.shift();
      job.reject(err);
      continue;
    }
    if (!done) break;
    waiting.shift();
    job.resolve();
  } while (waiting.length > 0 && performance.now() < deadline);
  if (waiting.length > 0 && !drainScheduled) {
    drainScheduled = true;
    setImmediate(drain);
  }
}

/**
 * Runs `work` to completion in slices. All sliced work shares one budget of {@link SLICE_MS} per turn of the event
 * loop (`setImmediate`, so I/O is served between turns): however many large bodies are in flight, the loop is held
 * for about that long at a time, not that long per body. Work runs oldest first, from the next turn. Errors thrown
 * by a step reject the promise.
 *
 * @internal
 */
export function runInSlices(work: SlicedWork): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    waiting.push({ work, resolve, reject });
    if (!drainScheduled) {
      drainScheduled = true;
      setImmediate(drain);
    }
  });
}

/**
 * Copies `parts` one after another into `out` (from offset 0), in slices ({@link runInSlices}); each part is let go
 * (its slot in `parts` emptied) once copied.
 *
 * @internal
 */
export function copyInSlices(parts: Uint8Array[], out: Uint8Array): Promise<void> {
  let next = 0;
  let offset = 0;
  return runInSlices({
    step(deadline) {
      while (next < parts.length) {
        const part = parts[next];
        out.set(part, offset);
        offset += part.length;
        parts[next++] = EMPTY_PART;
        if (performance.now() >= deadline) break;
      }
      return next === parts.length;
    },
  });
}

const EMPTY_PART = new Uint8Array(0);
