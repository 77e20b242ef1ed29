import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  GRPC_PREDICT_V2_PROTO,
  GrpcInferenceServer,
  ModelServerGrpcModule,
  ModelServerModule,
  type ModelServerGrpcModuleOptions,
  type ModelServerModuleOptions,
} from 'nest-model-server';

/** An application serving REST (via inject) and gRPC on a free loopback port. */
export interface GrpcTestApp {
  app: NestFastifyApplication;
  port: number;
  client: InferenceClient;
  close(): Promise<void>;
}

/** Starts the model server module and the gRPC module (port 0 on 127.0.0.1), with a client connected to it. */
export async function createGrpcApp(
  options: ModelServerModuleOptions,
  grpcOptions: ModelServerGrpcModuleOptions = {},
  clientOptions: grpc.ChannelOptions = {},
): Promise<GrpcTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot(options), ModelServerGrpcModule.forRoot({ port: 0, host: '127.0.0.1', ...grpcOptions })],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
      const fn = (this.raw as unknown as Record<string, Function>)[method];
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

  /** Opens ModelStreamInfer. */
  stream(settings: CallSettings = {}): grpc.ClientDuplexStream<Message, Message> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(settings.metadata ?? {})) metadata.set(k, v);
    const fn = (this.raw as unknown as Record<string, Function>).ModelStreamInfer;
    return fn.call(this.raw, metadata, settings.deadline === undefined ? {} : { deadline: settings.deadline });
  }

  close(): void {
    this.raw.close();
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
