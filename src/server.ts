import { NestFactory } from '@nestjs/core';
import type { LogLevel } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter } from 'nest-model-server';
import { PinoLogger } from '../libs/model-server/src/internal';
import { AppModule } from './app.module';
import type { ServerConfig } from './config/server-config';

/** Options of the application itself (not of the models). */
export interface CreateServerOptions {
  /** Nest's console logger with these levels, or false for none (tests); default: JSON logs per the config. */
  logger?: LogLevel[] | false;
}

/** Creates the application (models loaded as configured) without listening. */
export async function createServer(config: ServerConfig, options: CreateServerOptions = {}): Promise<NestFastifyApplication> {
  const adapter = createFastifyAdapter({ bodyLimit: config.options.maxBodyBytes, ...config.http });
  const json = options.logger === undefined && config.logFormat === 'json' ? new PinoLogger(config.logLevel) : undefined;
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config, json), adapter, {
    bufferLogs: false,
    logger: options.logger ?? json ?? nestLevels(config.logLevel),
  });
  return app;
}

/** Starts the server and listens on the configured host and port. */
export async function startServer(config: ServerConfig): Promise<NestFastifyApplication> {
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  return app;
}

/** Nest's console levels for a LOG_LEVEL (text logs). */
function nestLevels(level: ServerConfig['logLevel']): LogLevel[] | false {
  const order: [ServerConfig['logLevel'], LogLevel][] = [
    ['trace', 'verbose'],
    ['debug', 'debug'],
    ['info', 'log'],
    ['warn', 'warn'],
    ['error', 'error'],
    ['fatal', 'fatal'],
  ];
  if (level === 'silent') return false;
  const from = order.findIndex(([l]) => l === level);
  return order.slice(from).map(([, nest]) => nest);
}
