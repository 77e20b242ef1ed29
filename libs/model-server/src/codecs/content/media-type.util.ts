import type { MediaTypeParams } from './content-codec.interface';

/** A media type split into its lower-case `type/subtype` and its parameters. @publicApi */
export interface MediaType {
  readonly type: string;
  readonly params: MediaTypeParams;
}

/** One entry of an `Accept` header. @internal */
interface AcceptRange {
  readonly type: string;
  readonly params: MediaTypeParams;
  readonly q: number;
  /** 2 for `type/subtype`, 1 for `type/*`, 0 for `* / *`. */
  readonly specificity: number;
  readonly index: number;
}

/** The outcome of content negotiation. @publicApi */
export interface NegotiatedType {
  readonly mediaType: string;
  readonly params: MediaTypeParams;
}

/** Splits `s` on `sep` outside double quotes. */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' && s[i - 1] !== '\\') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

function parseParams(parts: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (key !== '' && key !== '__proto__') params[key] = unquote(part.slice(eq + 1).trim());
  }
  return params;
}

/**
 * Parses a `Content-Type` value: `Text/CSV; charset=utf-8; header=present` →
 * `{ type: 'text/csv', params: { charset: 'utf-8', header: 'present' } }`. An absent or empty header gives an
 * empty type.
 *
 * @publicApi
 */
export function parseMediaType(header: string | undefined): MediaType {
  if (header === undefined || header.trim() === '') return { type: '', params: {} };
  const [type, ...rest] = splitOutsideQuotes(header, ';');
  return { type: type.trim().toLowerCase(), params: parseParams(rest) };
}

function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  const entries = splitOutsideQuotes(header, ',');
  for (let index = 0; index < entries.length; index++) {
    const [rawType, ...rest] = splitOutsideQuotes(entries[index], ';');
    const type = rawType.trim().toLowerCase();
    const slash = type.indexOf('/');
    if (slash <= 0 || slash === type.length - 1) continue;
    const params = parseParams(rest);
    let q = 1;
    if (params.q !== undefined) {
      q = Number(params.q);
      if (!Number.isFinite(q) || q < 0) q = 0;
      if (q > 1) q = 1;
      delete params.q;
    }
    const specificity = type === '*/*' ? 0 : type.endsWith('/*') ? 1 : 2;
    ranges.push({ type, params, q, specificity, index });
  }
  return ranges;
}

function matches(range: AcceptRange, type: string): boolean {
  if (range.specificity === 0) return true;
  if (range.specificity === 1) return type.startsWith(range.type.slice(0, -1));
  return range.type === type;
}

/**
 * Chooses the response media type among `available` for an `Accept` header (RFC 9110 rules): the most specific
 * range matching a type gives its quality; the highest quality wins; on a tie an explicitly listed type beats a
 * wildcard match, an earlier entry beats a later one, and `preferred` beats the rest. An absent or empty `Accept`
 * (or one that only says `* / *`) gives `preferred`. Undefined when nothing acceptable is available (a 406).
 *
 * @publicApi
 */
export function negotiateMediaType(accept: string | undefined, available: readonly string[], preferred: string): NegotiatedType | undefined {
  if (accept === undefined || accept.trim() === '') return available.includes(preferred) ? { mediaType: preferred, params: {} } : undefined;
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return available.includes(preferred) ? { mediaType: preferred, params: {} } : undefined;
  let best: { type: string; range: AcceptRange; preferred: boolean } | undefined;
  for (const type of available) {
    let range: AcceptRange | undefined;
    for (const r of ranges) {
      if (!matches(r, type)) continue;
      if (range === undefined || r.specificity > range.specificity) range = r;
    }
    if (range === undefined || range.q <= 0) continue;
    const candidate = { type, range, preferred: type === preferred };
    if (best === undefined || better(candidate, best)) best = candidate;
  }
  return best === undefined ? undefined : { mediaType: best.type, params: best.range.params };
}

function better(a: { range: AcceptRange; preferred: boolean }, b: { range: AcceptRange; preferred: boolean }): boolean {
  if (a.range.q !== b.range.q) return a.range.q > b.range.q;
  const aExplicit = a.range.specificity === 2;
  const bExplicit = b.range.specificity === 2;
  if (aExplicit !== bExplicit) return aExplicit;
  if (aExplicit && a.range.index !== b.range.index) return a.range.index < b.range.index;
  return a.preferred && !b.preferred;
}

/**
 * The media type of a `Content-Type` value alone, lower case, without its parameters (`''` when absent): the
 * cheap form of {@link parseMediaType} for the request path.
 *
 * @internal
 */
export function mediaTypeOf(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}
