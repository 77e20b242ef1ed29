/** A source of uniform numbers in [0, 1). @publicApi */
export type RandomSource = () => number;

/**
 * A small, fast, seeded generator (mulberry32): the same seed gives the same sequence, for reproducible
 * traffic splits in tests. Not for anything cryptographic.
 *
 * @publicApi
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
