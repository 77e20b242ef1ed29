import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServerModule, type ModelServerModuleOptions } from 'nest-model-server';
import {
  GRPC_HEALTH_PROTO,
  GRPC_PREDICT_V2_PROTO,
  GrpcInferenceServer,
  ModelServerGrpcModule,
  type ModelServerGrpcModuleOptions,
} from 'nest-model-server/grpc';

/** An application serving REST (via inject) and gRPC on a free loopback port. */
export interface GrpcTestApp {
  app: NestFastifyApplication;
  port: number;
  client: InferenceClient;
  close(): Promise<void>;
}

/**
 * Starts the model server module and the gRPC module (port 0 on 127.0.0.1), with a client connected to it.
 * Logs go nowhere unless a `logger` (e.g. a {@link LogRecorder}) is given.
 */
export async function createGrpcApp(
  options: ModelServerModuleOptions,
  grpcOptions: ModelServerGrpcModuleOptions = {},
  clientOptions: grpc.ChannelOptions = {},
  logger: LoggerService | false = false,
): Promise<GrpcTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot(options), ModelServerGrpcModule.forRoot({ port: 0, host: '127.0.0.1', ...grpcOptions })],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
  await app.init();
  const port = app.get(GrpcInferenceServer).port;
  const client = new InferenceClient(port, clientOptions);
  return {
    app,
    port,
    client,
    close: async () => {
      client.close();
      await app.close();
    },
  };
}

// The client side loads the same .proto with a stock protobuf implementation (protobufjs via proto-loader).
const definition = loadSync(GRPC_PREDICT_V2_PROTO, { keepCase: true, longs: String, defaults: true, oneofs: true, arrays: true });
const ServiceClient = grpc.makeGenericClientConstructor(
  definition['inference.GRPCInferenceService'] as grpc.ServiceDefinition,
  'GRPCInferenceService',
);

/** Per-call options: deadline (epoch ms or Date) and metadata. */
export interface CallSettings {
  deadline?: number | Date;
  metadata?: Record<string, string>;
}

export type Message = Record<string, any>;

/** A real grpc-js client of inference.GRPCInferenceService, promise-based. */
export class InferenceClient {
  readonly raw: grpc.Client;

  constructor(port: number, options: grpc.ChannelOptions = {}) {
    this.raw = new ServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      ...options,
    });
  }

  /** Calls a unary RPC; rejects with the grpc-js ServiceError (code, details, metadata). */
  call(method: string, request: Message, settings: CallSettings = {}): Promise<Message> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(settings.metadata ?? {})) metadata.set(k, v);
    const callOptions: grpc.CallOptions = settings.deadline === undefined ? {} : { deadline: settings.deadline };
    return new Promise((resolve, reject) => {
      const fn = (this.raw as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
      fn.call(this.raw, request, metadata, callOptions, (err: grpc.ServiceError | null, res: Message) => (err ? reject(err) : resolve(res)));
    });
  }

  /** Calls a unary RPC expected to fail and returns its error. */
  async fail(method: string, request: Message, settings: CallSettings = {}): Promise<grpc.ServiceError> {
    try {
      const res = await this.call(method, request, settings);
      throw new Error(`${method} succeeded unexpectedly: ${JSON.stringify(res).slice(0, 200)}`);
    } catch (err) {
      if ((err as grpc.ServiceError).code === undefined) throw err;
      return err as grpc.ServiceError;
    }
  }

  /**
   * Calls a unary RPC with a request message's bytes as they are (built by hand, not by a client-side encoder)
   * and answers the response message's bytes; rejects with the grpc-js ServiceError.
   */
  callBytes(method: string, bytes: Buffer, settings: CallSettings = {}): Promise<Buffer> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(settings.metadata ?? {})) metadata.set(k, v);
    const callOptions: grpc.CallOptions = settings.deadline === undefined ? {} : { deadline: settings.deadline };
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(`/inference.GRPCInferenceService/${method}`, same, same, bytes, metadata, callOptions, (err, res) =>
        err ? reject(err) : resolve(res as Buffer),
      );
    });
  }

  /** {@link callBytes} expected to fail: its error. */
  async failBytes(method: string, bytes: Buffer, settings: CallSettings = {}): Promise<grpc.ServiceError> {
    try {
      await this.callBytes(method, bytes, settings);
    } catch (err) {
      if ((err as grpc.ServiceError).code === undefined) throw err;
      return err as grpc.ServiceError;
    }
    throw new Error(`${method} succeeded unexpectedly`);
  }

  /** Opens ModelStreamInfer. */
  stream(settings: CallSettings = {}): grpc.ClientDuplexStream<Message, Message> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(settings.metadata ?? {})) metadata.set(k, v);
    const fn = (this.raw as unknown as Record<string, (...args: unknown[]) => unknown>).ModelStreamInfer;
    return fn.call(this.raw, metadata, settings.deadline === undefined ? {} : { deadline: settings.deadline }) as grpc.ClientDuplexStream<Message, Message>;
  }

  close(): void {
    this.raw.close();
  }
}

function same(b: Buffer): Buffer {
  return b;
}

const service = definition['inference.GRPCInferenceService'] as unknown as Record<string, { responseDeserialize(b: Buffer): Message }>;

/** A ModelInferResponse's bytes as a message (by the stock decoder the client uses). */
export function decodeInferResponse(bytes: Buffer): Message {
  return service.ModelInfer.responseDeserialize(bytes);
}

/**
 * Protobuf wire bytes built by hand, for request messages too large or too odd for a client-side encoder
 * (millions of elements, millions of inputs, a shape of 2^32).
 */
export const wire = {
  varint(v: number): Buffer {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return Buffer.from(out);
  },
  /** A length-delimited field. */
  field(n: number, payload: Buffer | string): Buffer {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return Buffer.concat([wire.varint((n << 3) | 2), wire.varint(bytes.length), bytes]);
  },
  /** A ModelInferInputTensor (field 5 of the request), its InferTensorContents as given. */
  input(name: string, datatype: string, shape: number[], contents?: Buffer): Buffer {
    const parts = [wire.field(1, name), wire.field(2, datatype), wire.field(3, Buffer.concat(shape.map(wire.varint)))];
    if (contents !== undefined) parts.push(wire.field(5, contents));
    return wire.field(5, Buffer.concat(parts));
  },
  /** A ModelInferRequest for `model` with the given fields after its name. */
  request(model: string, ...fields: Buffer[]): Buffer {
    return Buffer.concat([wire.field(1, model), ...fields]);
  },
  /** `n` bytes_contents elements of one byte each (3 bytes on the wire apiece). */
  oneByteStrings(n: number): Buffer {
    const b = Buffer.alloc(3 * n);
    for (let i = 0; i < n; i++) {
      b[3 * i] = 0x42;
      b[3 * i + 1] = 1;
      b[3 * i + 2] = 0x61 + (i % 26);
    }
    return b;
  },
  /** Packed int64_contents (field 3) of `n` one-byte varints of value `v`. */
  packedInt64(n: number, v = 1): Buffer {
    return wire.field(3, Buffer.alloc(n, v));
  },
};

/** One log line the application wrote. */
export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  /** Everything after the message (a stack, the context). */
  rest: unknown[];
}

/** A Nest logger that keeps every line, for tests that check what is logged. */
export class LogRecorder implements LoggerService {
  readonly lines: LogLine[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'log', message: String(message), rest });
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'error', message: String(message), rest });
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'warn', message: String(message), rest });
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'debug', message: String(message), rest });
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'verbose', message: String(message), rest });
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'fatal', message: String(message), rest });
  }
  /** The lines of `context` (e.g. 'GrpcInference'). */
  of(context: string): LogLine[] {
    return this.lines.filter((l) => l.rest[l.rest.length - 1] === context);
  }
}

/** Little-endian bytes of a typed array (raw_input_contents). */
export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** BYTES elements as raw contents: each a 4-byte little-endian length, then the bytes. */
export function lengthPrefixed(items: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const b = typeof item === 'string' ? Buffer.from(item) : item;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

const HealthServiceClient = grpc.makeGenericClientConstructor(
  loadSync(GRPC_HEALTH_PROTO, { keepCase: true, enums: String, defaults: true })['grpc.health.v1.Health'] as grpc.ServiceDefinition,
  'Health',
);

/** A real grpc-js client of grpc.health.v1.Health (what Kubernetes gRPC probes call). */
export class HealthClient {
  readonly raw: grpc.Client;

  constructor(port: number) {
    this.raw = new HealthServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  /** `Check`: the status (`SERVING`, `NOT_SERVING`); rejects with the ServiceError (NOT_FOUND for an unknown service). */
  check(service: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const fn = (this.raw as unknown as Record<string, (...args: unknown[]) => unknown>).Check;
      fn.call(this.raw, { service }, (err: grpc.ServiceError | null, res: Message) => (err ? reject(err) : resolve(res.status as string)));
    });
  }

  /** `Check` expected to fail: its error. */
  async checkFails(service: string): Promise<grpc.ServiceError> {
    try {
      const status = await this.check(service);
      throw new Error(`Check('${service}') answered ${status}`);
    } catch (err) {
      if ((err as grpc.ServiceError).code === undefined) throw err;
      return err as grpc.ServiceError;
    }
  }

  /** `Watch`: the stream of statuses. */
  watch(service: string): grpc.ClientReadableStream<Message> {
    const fn = (this.raw as unknown as Record<string, (...args: unknown[]) => unknown>).Watch;
    return fn.call(this.raw, { service }) as grpc.ClientReadableStream<Message>;
  }

  close(): void {
    this.raw.close();
  }
}
