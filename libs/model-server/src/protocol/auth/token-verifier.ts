import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthOptions } from '../../options/auth-options.interface';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Checks presented credentials against the configured tokens in constant time (digests of equal length
 * compared with `timingSafeEqual`, every token compared, no early exit). Tokens are never logged.
 *
 * @publicApi
 */
export class TokenVerifier {
  private readonly digests: Buffer[];
  readonly apiKeyHeader: string;

  /** Routes anyone may call, as declared by the modules that serve them (without a query string or trailing slash). */
  private readonly openPaths = new Set<string>();

  constructor(private readonly options: AuthOptions) {
    const tokens = [...(options.tokens ?? [])];
    if (options.tokensFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(options.tokensFile, 'utf8');
      } catch (err) {
        throw new Error(`cannot read the auth tokens file ${options.tokensFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
      }
      for (const line of text.split(/\r?\n/)) {
        const token = line.trim();
        if (token !== '' && !token.startsWith('#')) tokens.push(token);
      }
    }
    if (tokens.some((t) => t.length < 8)) throw new Error('auth tokens must be at least 8 characters long');
    this.digests = tokens.map(digest);
    this.apiKeyHeader = (options.apiKeyHeader ?? 'x-api-key').toLowerCase();
  }

  /**
   * Declares a route open to callers without credentials, unless the settings protect its kind: health
   * (`protectHealth`, default open), docs (`protectDocs`, default open), metrics (`protectMetrics`, default
   * protected: its series name every model).
   */
  declareOpen(path: string, kind: 'health' | 'docs' | 'metrics'): void {
    const protectedKind =
      kind === 'health' ? this.options.protectHealth === true : kind === 'docs' ? this.options.protectDocs === true : this.options.protectMetrics !== false;
    if (!protectedKind) this.openPaths.add(path);
  }

  /** True when open routes of `kind` may name models: auth is off, or it protects them too. */
  mayNameModels(kind: 'health' | 'docs'): boolean {
    return !this.enabled || (kind === 'health' ? this.options.protectHealth === true : this.options.protectDocs === true);
  }

  /**
   * The one credentials check of every HTTP request: true when auth is off, the path (query string and a
   * trailing slash ignored) is an open route, or the headers carry a configured token.
   */
  admits(url: string, headers: IncomingHttpHeaders): boolean {
    if (this.digests.length === 0) return true;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (this.openPaths.has(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)) return true;
    return this.allows(headers);
  }

  /** True when tokens are configured, i.e. protection is on. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** True when `token` is one of the configured tokens. */
  verify(token: string | undefined): boolean {
    if (token === undefined || token === '') return false;
    const presented = digest(token);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(presented, d) || ok;
    return ok;
  }

  /** True when the request's headers carry a configured token (bearer or API key). */
  allows(headers: IncomingHttpHeaders): boolean {
    const apiKey = headers[this.apiKeyHeader];
    return this.verify(this.tokenFrom(headers.authorization, typeof apiKey === 'string' ? apiKey : undefined));
  }

  /** The token in `authorization: Bearer <t>` or the API-key header, if any. */
  tokenFrom(authorization: string | undefined, apiKey: string | undefined): string | undefined {
    if (apiKey !== undefined && apiKey !== '') return apiKey;
    if (authorization === undefined) return undefined;
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    return match === null ? undefined : match[1];
  }
}
