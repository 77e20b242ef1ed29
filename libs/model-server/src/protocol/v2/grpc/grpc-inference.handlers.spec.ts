import { status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { Logger, type LoggerService } from '@nestjs/common';
import { deadlineExceeded, modelDidNotLoad, modelNotFound } from '../../../errors';
import type { DataPlane } from '../../../inference/data-plane';
import type { ModelCatalog } from '../../../inference/model-catalog';
import { GrpcInferenceHandlers } from './grpc-inference.handlers';
import { MalformedMessage } from './grpc-service.definition';

type Unary = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** What a call was answered with: a value or a status. */
interface Outcome {
  error: Partial<ServiceError> | null;
  value?: unknown;
}

/** Calls one RPC of the handlers as grpc-js would, and resolves with what the callback got. */
function invoke(handlers: GrpcInferenceHandlers, rpc: string, request: unknown): Promise<Outcome> {
  const handler = handlers.implementation()[rpc] as unknown as Unary;
  return new Promise((resolve) => {
    handler({ request } as ServerUnaryCall<unknown, unknown>, (error, value) => resolve({ error: error as Partial<ServiceError> | null, value }));
  });
}

/** A logger that keeps what it is told. */
class Recorder implements LoggerService {
  lines: { level: string; message: string; stack?: string }[] = [];
  log(): void {}
  error(message: string, stack?: string): void {
    this.lines.push({ level: 'error', message, stack });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
}

describe('the gRPC unary wrapper', () => {
  let log: Recorder;
  let catalog: Partial<Record<keyof ModelCatalog, jest.Mock>>;
  let handlers: GrpcInferenceHandlers;

  beforeEach(() => {
    log = new Recorder();
    Logger.overrideLogger(log);
    catalog = {
      live: jest.fn(() => true),
      modelReady: jest.fn(() => {
        throw modelNotFound('ghost');
      }),
      serverMetadata: jest.fn(() => {
        throw new Error('secret detail');
      }),
      modelMetadata: jest.fn(() => {
        throw deadlineExceeded('metadata');
      }),
      loadModel: jest.fn(async () => {
        throw modelDidNotLoad('broken', undefined, 'failed', 'weights file is corrupt');
      }),
      unloadModel: jest.fn(async () => ({ name: 'm', platform: 'p', versions: [{ state: 'unloaded' }] })),
    };
    handlers = new GrpcInferenceHandlers({} as DataPlane, catalog as unknown as ModelCatalog, { maxSendMessageBytes: 1 << 20, maxStreamInFlight: 1, debug: false });
  });
  afterEach(() => Logger.overrideLogger(false));

  it('sends what the handler computes, synchronously or not', async () => {
    expect(await invoke(handlers, 'ServerLive', {})).toEqual({ error: null, value: { live: true } });
    expect(await invoke(handlers, 'RepositoryModelUnload', { model_name: 'm', triton_model_name: '' })).toEqual({
      error: null,
      value: { model_name: 'm', isUnloaded: true },
    });
    expect(log.lines).toEqual([]);
  });

  it("turns a coded error, thrown or rejected, into the catalogue's status with its message", async () => {
    expect((await invoke(handlers, 'ModelReady', { name: 'ghost', version: '' })).error).toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(/^model 'ghost' is not served here/),
    });
    expect((await invoke(handlers, 'RepositoryModelLoad', { model_name: 'broken', triton_model_name: '' })).error).toMatchObject({
      code: status.UNAVAILABLE,
      details: "model 'broken' did not load (failed): weights file is corrupt",
    });
    expect((await invoke(handlers, 'ModelReady', new MalformedMessage('truncated'))).error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(log.lines).toEqual([]);
  });

  it('hides an uncoded error behind INTERNAL and logs it once as an error with its stack', async () => {
    expect((await invoke(handlers, 'ServerMetadata', {})).error).toMatchObject({ code: status.INTERNAL, details: 'internal server error' });
    expect(log.lines).toEqual([{ level: 'error', message: 'ServerMetadata: secret detail', stack: expect.stringContaining('secret detail') }]);
  });

  it('logs a passed deadline as one warning line without a stack, as REST does', async () => {
    expect((await invoke(handlers, 'ModelMetadata', { name: 'm', version: '' })).error).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(log.lines).toEqual([{ level: 'warn', message: "ModelMetadata: the request's deadline passed during metadata" }]);
  });

  it('never throws when the call cannot take its answer any more: the fault is logged', () => {
    const handler = handlers.implementation().ServerLive as unknown as Unary;
    const gone: sendUnaryData<unknown> = () => {
      throw new Error('call ended');
    };
    expect(() => handler({ request: {} } as ServerUnaryCall<unknown, unknown>, gone)).not.toThrow();
    expect(log.lines).toEqual([expect.objectContaining({ level: 'error', message: 'ServerLive: call ended' })]);
  });
});
