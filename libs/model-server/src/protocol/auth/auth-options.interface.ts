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
  /** Also protect `/metrics` (default false). */
  protectMetrics?: boolean;
  /** Also protect `/docs` and `/openapi.json` (default false). */
  protectDocs?: boolean;
}
