import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/**
 * The application's Fastify instance, for registrars that put routes or hooks straight on it; undefined in an
 * application context without HTTP. A non-Fastify adapter is a configuration mistake, reported at boot.
 *
 * @internal
 */
export function fastifyOf(host: HttpAdapterHost): FastifyInstance | undefined {
  const adapter = host.httpAdapter;
  if (adapter === undefined || adapter === null) return undefined;
  const app = adapter.getInstance() as FastifyInstance;
  if (typeof app?.addContentTypeParser !== 'function' || typeof app.register !== 'function') {
    throw new Error('the model server serves HTTP on Fastify: create the application with new FastifyAdapter() (or createFastifyAdapter())');
  }
  return app;
}

/**
 * Runs a registrar's `register` on the application's Fastify instance, or not at all in an application context
 * without HTTP: the one skeleton of every `onModuleInit` that puts routes or hooks on raw Fastify.
 *
 * @internal
 */
export function onFastify(host: HttpAdapterHost, register: (app: FastifyInstance) => void): void {
  const app = fastifyOf(host);
  if (app !== undefined) register(app);
}
