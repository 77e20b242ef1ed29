/**
 * Work on large bodies runs in slices of about this many milliseconds, the event loop served between them
 * (health probes, other requests). Far below the 100 ms a request may block the loop, with room for a noisy host.
 *
 * @internal
 */
export const SLICE_MS = 10;

/** Work done in slices: each `step` runs until it is done (true) or `deadline` (`performance.now()`) has passed. @internal */
export interface SlicedWork {
  step(deadline: number): boolean;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `work` to completion, one slice per turn of the event loop (`setImmediate`, so I/O is served between
 * slices). The first slice runs at once. Errors thrown by a step reject the promise.
 *
 * @internal
 */
export async function runInSlices(work: SlicedWork): Promise<void> {
  while (!work.step(performance.now() + SLICE_MS)) await nextTurn();
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
