/**
 * Longest path segment the router takes (a model name or version longer than this is refused): Fastify's
 * `maxParamLength`, set by the adapter, and the fast lane's own path match, which must refuse what the router
 * refuses. A file of its own, free of imports, so the route table reads it without loading the adapter.
 *
 * @internal
 */
export const MAX_SEGMENT = 256;
