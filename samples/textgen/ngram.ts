/**
 * A word-level trigram model with back-off: the next word after two words, else after the last one, else by its
 * frequency in the text. Counts keep the order words first appear in, so sampling with a seeded generator is
 * reproducible.
 */
export class NGramModel {
  private readonly afterTwo = new Map<string, Map<string, number>>();
  private readonly afterOne = new Map<string, Map<string, number>>();
  private readonly words = new Map<string, number>();

  private constructor() {}

  /** Builds the model from a text, its words split at whitespace (punctuation stays with its word). */
  static fromText(text: string): NGramModel {
    const model = new NGramModel();
    const words = text.split(/\s+/).filter((w) => w.length > 0);
    if (words.length < 3) throw new Error('the corpus needs at least three words');
    for (let i = 0; i < words.length; i++) {
      count(model.words, words[i]);
      if (i >= 1) count(table(model.afterOne, words[i - 1]), words[i]);
      if (i >= 2) count(table(model.afterTwo, `${words[i - 2]} ${words[i - 1]}`), words[i]);
    }
    return model;
  }

  /** Words in the text, distinct. */
  get vocabulary(): number {
    return this.words.size;
  }

  /** The next word after `before last` (either may be unknown or absent), drawn with `random` at `temperature`. */
  next(before: string | undefined, last: string | undefined, random: () => number, temperature: number): string {
    const counts =
      (before !== undefined && last !== undefined ? this.afterTwo.get(`${before} ${last}`) : undefined) ??
      (last !== undefined ? this.afterOne.get(last) : undefined) ??
      this.words;
    return sample(counts, random, temperature);
  }
}

function table(tables: Map<string, Map<string, number>>, key: string): Map<string, number> {
  let t = tables.get(key);
  if (t === undefined) tables.set(key, (t = new Map()));
  return t;
}

function count(counts: Map<string, number>, word: string): void {
  counts.set(word, (counts.get(word) ?? 0) + 1);
}

/** A word drawn in proportion to count^(1/temperature); at temperature 0 the most frequent (the first seen of equals). */
function sample(counts: ReadonlyMap<string, number>, random: () => number, temperature: number): string {
  let best = '';
  let bestCount = -1;
  if (temperature === 0) {
    for (const [word, n] of counts) if (n > bestCount) [best, bestCount] = [word, n];
    return best;
  }
  let total = 0;
  for (const n of counts.values()) total += n ** (1 / temperature);
  let r = random() * total;
  for (const [word, n] of counts) {
    r -= n ** (1 / temperature);
    if (r < 0) return word;
    best = word;
  }
  return best;
}

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
