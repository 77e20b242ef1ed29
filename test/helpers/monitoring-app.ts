import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServerModule, type ModelConfig } from 'nest-model-server';
import { ModelServerMonitoringModule, type ModelServerMonitoringOptions } from 'nest-model-server/monitoring';

/** An application serving `models` with the monitoring module (server name `model-server`), initialised. */
export async function monitoredApp(models: ModelConfig[], monitoring: ModelServerMonitoringOptions): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot({ models, serverName: 'model-server' }), ModelServerMonitoringModule.forRoot(monitoring)],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** The records of a JSON-lines file (every line ended), parsed. */
export function readRecords(path: string): Record<string, any>[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** MLRun's `when`: `2024-10-23 10:15:52.123456+00:00`. */
export const MLRUN_WHEN = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
