export { HttpErrorFilter } from './http-error.filter';
export { createFastifyAdapter, DEFAULT_FAST_LANE } from './fastify-adapter.factory';
export { fastifyOf } from './fastify-instance.util';
export type { ModelServerAdapterOptions } from './fastify-adapter.factory';
export { DEFAULT_HTTP_TIMEOUTS } from './connection-guard';
export type { HttpTimeouts } from './connection-guard';
