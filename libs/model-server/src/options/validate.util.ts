import { validateSync, type ValidationError } from 'class-validator';

/** `models[0].name` for nested errors: array members by index, object members by name. */
function flatten(errors: ValidationError[], prefix: string, out: string[]): string[] {
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push(`${path}: ${message}`);
    flatten(e.children ?? [], path, out);
  }
  return out;
}

/**
 * Checks `rules` (a class-validator rules object holding the given options) and throws one error that lists
 * every problem, its own and the `more` the caller found by hand, as `invalid <what> options:\n  - path: ...`.
 *
 * @internal
 */
export function validateOrThrow(what: string, rules: object, more: string[] = []): void {
  const problems = [...flatten(validateSync(rules, { forbidUnknownValues: false }), '', []), ...more];
  if (problems.length > 0) throw new Error(`invalid ${what} options:\n  - ${problems.join('\n  - ')}`);
}

/** Each key of `defaults` from `given` when set there (not undefined/null), else the default. @internal */
export function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out = { ...defaults } as T;
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = given?.[key];
    if (value !== undefined && value !== null) out[key] = value as T[keyof T];
  }
  return out;
}
