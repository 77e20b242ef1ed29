import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter } from 'nest-model-server';
import { AppModule } from './app.module';

/** Starts the credit-scoring application on `PORT` (default 8080). */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createFastifyAdapter());
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
}

void bootstrap();
