const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Orders version names: numerically where they are numbers (`"10"` after `"9"`), else naturally. @internal */
export function compareVersions(a: string, b: string): number {
  return collator.compare(a, b);
}
