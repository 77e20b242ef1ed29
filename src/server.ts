import { NestFactory } from '@nestjs/core';
import type { LogLevel } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { ServerConfig } from './config/server-config';

/** Options of the application itself (not of the models). */
export interface CreateServerOptions {
  /** Log levels to print, or false for none (tests). */
  logger?: LogLevel[] | false;
}

/** Creates the application (models loaded as configured) without listening. */
export async function createServer(config: ServerConfig, options: CreateServerOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.options.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), adapter, {
    bufferLogs: false,
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  return app;
}

/** Starts the server and listens on the configured host and port. */
export async function startServer(config: ServerConfig): Promise<NestFastifyApplication> {
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  return app;
}
