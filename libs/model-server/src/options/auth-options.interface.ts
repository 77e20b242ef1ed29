/**
 * Optional bearer-token / API-key protection of the inference and management routes. Off unless tokens are
 * given.
 *
 * @publicApi
 */
export interface AuthOptions {
  /** Accepted tokens. */
  tokens?: string[];
  /** A file with one accepted token per line (blank lines and `#` comments ignored), read at boot. */
  tokensFile?: string;
  /** The API-key header accepted besides `Authorization: Bearer` (default `x-api-key`). */
  apiKeyHeader?: string;
  /** Also protect `/v2/health/*` and `/ping` (default false: orchestrators probe them without credentials). */
  protectHealth?: boolean;
  /**
   * Protect `/metrics` (default true: its series name every model). Set false to let a scraper in without
   * credentials, knowing it then lists the model names the other routes protect.
   */
  protectMetrics?: boolean;
  /** Also protect `/docs` and `/openapi.json` (default false; unprotected, the document names no model). */
  protectDocs?: boolean;
}
