/** A draw in [0, 1) from a seeded generator: the same seed gives the same cases on every run. */
export type Next = () => number;

/** A small linear congruential generator: fast, deterministic, good enough to pick test cases. */
export function generator(seed: number): Next {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One of `items`, drawn with `next`. */
export function pick<T>(next: Next, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)];
}
