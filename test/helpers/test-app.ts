import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createFastifyAdapter,
  ModelServerModule,
  type ModelServerModuleOptions,
} from 'nest-model-server';
import { parseJson } from '../../libs/model-server/src/internal';
import { loadServerConfig } from '../../src/config/server-config';
import { createServer } from '../../src/server';

/**
 * How a test reaches the app: `inject` (Fastify's `app.inject`, no port) or `socket` (real HTTP on a loopback
 * port, where plain JSON infer requests are answered by the HTTP server's fast lane, turned on here, instead of
 * Fastify's route).
 * The REST suites run through both, and the two must not be told apart.
 */
export type Door = 'inject' | 'socket';
export const DOORS: readonly Door[] = ['inject', 'socket'];

/** The samples' config, as `npm start` serves it. */
export const SAMPLES_CONFIG = join(__dirname, '..', '..', 'samples', 'models.yaml');

/** The server `npm start` runs (the samples), initialised for `app.inject`, gRPC on a free loopback port. */
export async function samplesServer(): Promise<NestFastifyApplication> {
  const app = await createServer(loadServerConfig({ host: '127.0.0.1', grpcPort: '0' }, {}, SAMPLES_CONFIG), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/**
 * A Nest application with the model server module on Fastify, initialised; through the `socket` door it listens
 * on a loopback port and {@link send} goes over real HTTP.
 */
export async function createApp(options: ModelServerModuleOptions, door: Door = 'inject'): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot(options)] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ bodyLimit: options.maxBodyBytes, fastLane: true }), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  if (door === 'socket') await app.listen(0, '127.0.0.1');
  return app;
}

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  raw: Buffer;
}

/**
 * Sends one request, through `app.inject`, or over HTTP when the app listens; objects are sent as JSON, the
 * answer parsed losslessly.
 */
export async function send(
  app: NestFastifyApplication,
  method: string,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body =
    payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const sent = typeof payload === 'object' && !Buffer.isBuffer(payload) && !('content-type' in headers) ? { 'content-type': 'application/json', ...headers } : headers;
  const server = app.getHttpServer();
  const res = server.listening
    ? await overHttp((server.address() as AddressInfo).port, method, url, body, sent)
    : await app.inject({ method: method as 'GET', url, payload: body as string | Buffer | undefined, headers: sent }).then((r) => ({
        status: r.statusCode,
        headers: r.headers as Record<string, unknown>,
        raw: r.rawPayload,
      }));
  const text = res.raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = String(res.headers['content-type'] ?? '').includes('json') ? parseJson(text) : text;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed, raw: res.raw };
}

/** One request to 127.0.0.1:port; the answer's status, headers and bytes. */
export function overHttp(
  port: number,
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
