export { HttpErrorFilter } from './http-error.filter';
export { createFastifyAdapter } from './fastify-adapter.factory';
export { fastifyOf } from './fastify-instance.util';
export type { ModelServerAdapterOptions } from './fastify-adapter.factory';
