export { HttpErrorFilter } from './http-error.filter';
export { createFastifyAdapter } from './fastify-adapter.factory';
export type { ModelServerAdapterOptions } from './fastify-adapter.factory';
