import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter, HttpErrorFilter, ModelServerModule, parseJson, type ModelServerModuleOptions } from 'nest-model-server';

/** A Nest application with the model server module on Fastify, initialised, not listening. */
export async function createApp(options: ModelServerModuleOptions): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot(options)] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ bodyLimit: options.maxBodyBytes }), { logger: false });
  app.useGlobalFilters(new HttpErrorFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: Buffer;
}

/** Sends one request through `app.inject`; objects are sent as JSON, the answer parsed losslessly. */
export async function send(
  app: NestFastifyApplication,
  method: string,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body =
    payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const res = await app.inject({
    method: method as 'GET',
    url,
    payload: body as string | Buffer | undefined,
    headers: typeof payload === 'object' && !Buffer.isBuffer(payload) && !('content-type' in headers) ? { 'content-type': 'application/json', ...headers } : headers,
  });
  let parsed: unknown;
  try {
    parsed = String(res.headers['content-type'] ?? '').includes('json') ? parseJson(res.body) : res.body;
  } catch {
    parsed = res.body;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, raw: res.rawPayload };
}
