import { Buffer } from 'node:buffer';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseJson, stringifyJson } from '../codecs';
import { ModelServerModule } from '../module/model-server.module';
import type { ModelServerModuleOptions } from '../options/model-server-options.interface';
import { createFastifyAdapter } from '../protocol/http/fastify-adapter.factory';

/** A non-2xx answer of the test server. @publicApi */
export class TestServerError extends Error {
  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The `{"error": ...}` message (or the raw body if it had none). */
    message: string,
    /** The parsed body. */
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'TestServerError';
  }
}

/** A raw answer of {@link TestServer.request}. @publicApi */
export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The body parsed as JSON (64-bit integers as bigint), or undefined when it is not JSON. */
  json: unknown;
  raw: Buffer;
}

/** Options of one call. @publicApi */
export interface TestCallOptions {
  version?: string;
  headers?: Record<string, string>;
}

/** A v2 response as a client receives it. @publicApi */
export interface TestInferenceResponse {
  model_name: string;
  model_version?: string;
  id: string;
  parameters?: Record<string, unknown>;
  outputs: { name: string; datatype: string; shape: number[]; data: unknown[]; parameters?: Record<string, unknown> }[];
}

/**
 * An in-process server around one or more models, for model authors' tests: the same routes, checks and
 * codecs as the real server, called with plain objects, no port.
 *
 * @example
 * const server = await createTestServer({ models: [{ name: 'iris', model: IrisModel, modelPath }] });
 * const res = await server.infer('iris', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
 * await server.close();
 * @publicApi
 */
export class TestServer {
  private constructor(private readonly app: NestFastifyApplication) {}

  /** @internal */
  static async start(options: ModelServerModuleOptions): Promise<TestServer> {
    const app = await NestFactory.create<NestFastifyApplication>(
      ModelServerModule.forRoot(options),
      createFastifyAdapter({ bodyLimit: options.maxBodyBytes }),
      { logger: ['error', 'warn'], abortOnError: false },
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return new TestServer(app);
  }

  /** The Nest application, for tests that need more than these helpers. */
  get application(): NestFastifyApplication {
    return this.app;
  }

  infer(model: string, request: unknown, options: TestCallOptions = {}): Promise<TestInferenceResponse> {
    return this.call('POST', `${modelPath(model, options.version)}/infer`, request, options) as Promise<TestInferenceResponse>;
  }

  explain(model: string, request: unknown, options: TestCallOptions = {}): Promise<TestInferenceResponse> {
    return this.call('POST', `${modelPath(model, options.version)}/explain`, request, options) as Promise<TestInferenceResponse>;
  }

  /** Calls a custom operation; a body with `inputs` is a v2 request, anything else reaches the model as `request.body`. */
  operation(model: string, op: string, body?: unknown, options: TestCallOptions = {}): Promise<unknown> {
    return this.call('POST', `${modelPath(model, options.version)}/${encodeURIComponent(op)}`, body, options);
  }

  metadata(model: string, options: TestCallOptions = {}): Promise<unknown> {
    return this.call('GET', modelPath(model, options.version), undefined, options);
  }

  /** Readiness of the server (no model given) or of a model / version. */
  async ready(model?: string, options: TestCallOptions = {}): Promise<boolean> {
    const url = model === undefined ? '/v2/health/ready' : `${modelPath(model, options.version)}/ready`;
    const res = await this.request('GET', url);
    if (res.status === 200) return true;
    if (res.status === 503) return false;
    throw toError(res);
  }

  /** Any request, answered as is. */
  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : stringifyJson(body);
    const res = await this.app.inject({
      method: method as 'GET',
      url,
      payload,
      headers: payload !== undefined && !('content-type' in headers) ? { 'content-type': 'application/json', ...headers } : headers,
    });
    const raw = res.rawPayload;
    let json: unknown;
    if (String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        json = parseJson(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    return { status: res.statusCode, headers: res.headers, json, raw };
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  private async call(method: string, url: string, body: unknown, options: TestCallOptions): Promise<unknown> {
    const res = await this.request(method, url, body, options.headers);
    if (res.status < 200 || res.status >= 300) throw toError(res);
    return res.json;
  }
}

function modelPath(model: string, version: string | undefined): string {
  const base = `/v2/models/${encodeURIComponent(model)}`;
  return version === undefined ? base : `${base}/versions/${encodeURIComponent(version)}`;
}

function toError(res: TestResponse): TestServerError {
  const message =
    typeof res.json === 'object' && res.json !== null && typeof (res.json as { error?: unknown }).error === 'string'
      ? (res.json as { error: string }).error
      : res.raw.toString('utf8');
  return new TestServerError(res.status, message, res.json);
}

/** Starts an in-process {@link TestServer}. @publicApi */
export function createTestServer(options: ModelServerModuleOptions): Promise<TestServer> {
  return TestServer.start(options);
}
