import { Logger } from '@nestjs/common';
import {
  status as GrpcStatus,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { clip } from '../../../errors/clip.util';
import { invalidRequest } from '../../../errors/errors';
import { isModelServerError } from '../../../errors/model-server.error';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { DataPlaneRequest } from '../../../inference/data-plane-request';
import type { ModelCatalog, ModelListing } from '../../../inference/model-catalog';
import { ModelState } from '../../../model/model-state.enum';
import type { TensorSpec } from '../../../model/tensor.interface';
import { grpcCallOptions, type GrpcCallOptions } from './grpc-call.util';
import { modelDidNotLoad, thrownText } from './grpc-errors.util';
import { MalformedMessage } from './grpc-service.definition';
import { toGrpcError, type GrpcErrorAnswer } from './grpc-status.map';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.decoder';
import { encodeInferResponse, encodeStreamError, needsRawResponse } from './infer-response.encoder';
import { InferStream } from './infer-stream';
import type { CancellableCall } from './work-slicer.util';

/** What the handlers are built from. @internal */
export interface GrpcHandlerSettings {
  maxSendMessageBytes: number;
  maxStreamInFlight: number;
  /** Put stack traces of server faults in status messages. */
  debug: boolean;
}

interface NameVersion {
  name: string;
  version: string;
}

interface RepositoryIndexMessage {
  repository_name: string;
  ready: boolean;
}

interface RepositoryModelMessage {
  model_name: string;
  triton_model_name: string;
}

/**
 * `inference.GRPCInferenceService`: a thin converter between proto messages and the data plane / model catalog.
 * It owns no model state and calls no model; every failure becomes a status through the one map in
 * `grpc-status.map.ts`. Handlers are bound once; the request path allocates no closures.
 *
 * @internal
 */
export class GrpcInferenceHandlers {
  private readonly logger = new Logger('GrpcInference');

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly catalog: ModelCatalog,
    private readonly settings: GrpcHandlerSettings,
  ) {}

  /** The implementation object grpc-js serves. */
  implementation(): UntypedServiceImplementation {
    return {
      ServerLive: this.serverLive,
      ServerReady: this.serverReady,
      ModelReady: this.modelReady,
      ServerMetadata: this.serverMetadata,
      ModelMetadata: this.modelMetadata,
      ModelInfer: this.modelInfer,
      ModelStreamInfer: this.modelStreamInfer,
      RepositoryIndex: this.repositoryIndex,
      RepositoryModelLoad: this.repositoryModelLoad,
      RepositoryModelUnload: this.repositoryModelUnload,
    };
  }

  private readonly serverLive = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      this.reply(callback, { live: this.catalog.live() }, 'ServerLive');
    } catch (err) {
      this.fail(callback, err, 'ServerLive');
    }
  };

  private readonly serverReady = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      this.reply(callback, { ready: this.catalog.ready() }, 'ServerReady');
    } catch (err) {
      this.fail(callback, err, 'ServerReady');
    }
  };

  private readonly serverMetadata = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      this.reply(callback, this.catalog.serverMetadata(), 'ServerMetadata');
    } catch (err) {
      this.fail(callback, err, 'ServerMetadata');
    }
  };

  private readonly modelReady = (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      const { name, version } = nameVersion(call.request, 'ModelReadyRequest');
      this.reply(callback, { ready: this.catalog.modelReady(name, version) }, 'ModelReady');
    } catch (err) {
      this.fail(callback, err, 'ModelReady');
    }
  };

  private readonly modelMetadata = (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      const { name, version } = nameVersion(call.request, 'ModelMetadataRequest');
      const meta = this.catalog.modelMetadata(name, version);
      const answer = {
        name: meta.name,
        versions: meta.versions ?? [],
        platform: meta.platform,
        inputs: meta.inputs.map(tensorMetadata),
        outputs: meta.outputs.map(tensorMetadata),
      };
      this.reply(callback, answer, 'ModelMetadata');
    } catch (err) {
      this.fail(callback, err, 'ModelMetadata');
    }
  };

  private readonly repositoryIndex = (call: ServerUnaryCall<RepositoryIndexMessage | MalformedMessage, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      const request = checked(call.request, 'RepositoryIndexRequest');
      const models = this.catalog.repositoryIndex(request.ready).map((row) => ({
        name: row.name,
        version: row.version ?? '',
        state: row.state,
        reason: row.reason ?? '',
      }));
      this.reply(callback, { models }, 'RepositoryIndex');
    } catch (err) {
      this.fail(callback, err, 'RepositoryIndex');
    }
  };

  private readonly repositoryModelLoad = async (
    call: ServerUnaryCall<RepositoryModelMessage | MalformedMessage, unknown>,
    callback: sendUnaryData<unknown>,
  ): Promise<void> => {
    try {
      const name = repositoryModelName(call.request, 'RepositoryModelLoadRequest');
      const listing = await this.catalog.loadModel(name);
      const failed = listing.versions.find((v) => v.state !== ModelState.Ready);
      if (failed !== undefined) throw modelDidNotLoad(name, failed.version, failed.state, failed.reason);
      this.reply(callback, { model_name: name, isLoaded: true }, 'RepositoryModelLoad');
    } catch (err) {
      this.fail(callback, err, 'RepositoryModelLoad');
    }
  };

  private readonly repositoryModelUnload = async (
    call: ServerUnaryCall<RepositoryModelMessage | MalformedMessage, unknown>,
    callback: sendUnaryData<unknown>,
  ): Promise<void> => {
    try {
      const name = repositoryModelName(call.request, 'RepositoryModelUnloadRequest');
      const listing: ModelListing = await this.catalog.unloadModel(name);
      this.reply(callback, { model_name: name, isUnloaded: listing.versions.every((v) => v.state === ModelState.Unloaded) }, 'RepositoryModelUnload');
    } catch (err) {
      this.fail(callback, err, 'RepositoryModelUnload');
    }
  };

  private readonly modelInfer = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    this.serveInfer(call, callback).catch(this.onStrayFault);
  };

  /**
   * One ModelInfer: holds the message's bytes in the data plane's byte budget from before decoding until
   * answered (UNAVAILABLE + retry-after when the budget is full), decodes (sliced when large, stopping if the
   * call is cancelled), runs the data plane, encodes. Every failure becomes the call's status; never rejects.
   */
  private async serveInfer(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> {
    const bytes = call.request;
    const budget = this.dataPlane.byteBudget;
    let held = -1;
    let options: GrpcCallOptions | undefined;
    const opened = new Opened(this.dataPlane);
    try {
      budget.acquire(bytes.length);
      held = bytes.length;
      options = opened.call = grpcCallOptions(call);
      const decoded = decodeInferRequest(bytes, this.dataPlane.limits, call, opened.open);
      const answer = await this.infer(opened, decoded instanceof Promise ? await decoded : decoded, 0, call);
      options.cancellation.settle();
      this.reply(callback, answer, 'ModelInfer');
    } catch (err) {
      options?.cancellation.settle();
      opened.request?.refuse(err);
      this.fail(callback, err, 'ModelInfer');
    } finally {
      if (held >= 0) budget.release(held);
    }
  }

  private readonly modelStreamInfer = (call: ServerDuplexStream<Buffer, Buffer>): void => {
    new InferStream(call, this, this.settings.maxStreamInFlight).start();
  };

  /**
   * Runs one decoded request through the data plane, in the request opened once its model was read (a refusal
   * from then on is that request's one monitoring event), and encodes the answer, within the send limit.
   */
  private async infer(opened: Opened, request: DecodedInferRequest, wrapField: number, call: CancellableCall): Promise<Buffer> {
    const response = await opened.open(request.modelName, request.modelVersion).run(request.wire);
    const encoded = encodeInferResponse(response, needsRawResponse(response, request.raw), this.settings.maxSendMessageBytes, wrapField, call);
    return encoded instanceof Promise ? await encoded : encoded;
  }

  /**
   * One ModelStreamInfer answer: the ModelStreamInferResponse bytes for the request, or for its failure
   * (`error_message` with the model, version and id it was for). The request holds its bytes in the byte
   * budget until its answer is made (a full budget is its failure, UNAVAILABLE's text). Never rejects.
   *
   * @internal
   */
  async streamAnswer(bytes: Buffer, options: CallOptions, call: CancellableCall): Promise<Buffer> {
    const budget = this.dataPlane.byteBudget;
    let held = -1;
    let request: DecodedInferRequest | undefined;
    const opened = new Opened(this.dataPlane);
    opened.call = options;
    try {
      budget.acquire(bytes.length);
      held = bytes.length;
      const decoded = decodeInferRequest(bytes, this.dataPlane.limits, call, opened.open);
      request = decoded instanceof Promise ? await decoded : decoded;
      return await this.infer(opened, request, 2, call);
    } catch (err) {
      const answer = toGrpcError(err, this.settings.debug);
      this.logFailure('ModelStreamInfer', err, answer);
      opened.request?.refuse(err);
      return encodeStreamError(answer.error.details, request?.modelName ?? '', request?.modelVersion, request?.wire.id ?? '');
    } finally {
      if (held >= 0) budget.release(held);
    }
  }

  /** Logs a fault of the stream itself (not of one request on it). @internal */
  streamFault(err: unknown): void {
    this.logFault('ModelStreamInfer', err);
  }

  /** The status a stream ends with after a fault of its own. @internal */
  streamStatus(err: unknown): GrpcErrorAnswer['error'] {
    return toGrpcError(err, this.settings.debug).error;
  }

  /** Sends an answer; a call that cannot take it any more (gone, ended) is logged, never thrown. */
  private reply<T>(callback: sendUnaryData<T>, answer: T, rpc: string): void {
    try {
      callback(null, answer);
    } catch (err) {
      this.logFault(rpc, err);
    }
  }

  private fail(callback: sendUnaryData<never>, err: unknown, rpc: string): void {
    const answer = toGrpcError(err, this.settings.debug);
    this.logFailure(rpc, err, answer);
    try {
      callback(answer.error as Parameters<typeof callback>[0]);
    } catch (fault) {
      this.logFault(rpc, fault);
    }
  }

  /** Server faults: one error line with the cause's stack; a deadline that passed: one warning line, no stack. */
  private logFailure(rpc: string, err: unknown, answer: GrpcErrorAnswer): void {
    if (answer.serverFault) this.logFault(rpc, err);
    else if (answer.error.code === GrpcStatus.DEADLINE_EXCEEDED) this.logger.warn(`${rpc}: ${answer.error.details}`);
  }

  /**
   * A server fault, logged once: the error's message, and the stack of what caused it (a model's own error is
   * the `cause` of the data plane's error, whose message only names the model, the stage and the request).
   */
  private logFault(rpc: string, err: unknown): void {
    const cause = isModelServerError(err) && err.cause !== undefined ? err.cause : err;
    const stack = cause instanceof Error ? cause.stack : undefined;
    const text = cause === err ? thrownText(err) : `${thrownText(err)} (caused by: ${cause instanceof Error ? cause.name : thrownText(cause)})`;
    this.logger.error(`${rpc}: ${text}`, stack);
  }

  /** Last resort for a rejection that escaped a handler (none should): logged, never unhandled. */
  private readonly onStrayFault = (err: unknown): void => {
    this.logFault('ModelInfer', err);
  };
}

/** The data-plane request of one message, opened as soon as the decoder has read which model it names. */
class Opened {
  call: CallOptions = GRPC_CALL;
  request: DataPlaneRequest | undefined;

  constructor(private readonly dataPlane: DataPlane) {}

  readonly open = (name: string, version: string | undefined): DataPlaneRequest =>
    (this.request ??= this.dataPlane.begin('infer', name, version, this.call));
}

const GRPC_CALL: CallOptions = { protocol: 'grpc' };

function checked<T>(request: T | MalformedMessage, message: string): T {
  if (request instanceof MalformedMessage) throw invalidRequest(`the ${message} message is malformed: ${clip(request.reason)}`);
  return request;
}

function nameVersion(request: NameVersion | MalformedMessage, message: string): { name: string; version: string | undefined } {
  const { name, version } = checked(request, message);
  if (name === '') throw invalidRequest(`${message}.name is empty; name the model`);
  return { name, version: version === '' ? undefined : version };
}

function repositoryModelName(request: RepositoryModelMessage | MalformedMessage, message: string): string {
  const r = checked(request, message);
  const name = r.triton_model_name !== '' ? r.triton_model_name : r.model_name;
  if (name === '') throw invalidRequest(`${message}.model_name is empty; name the model`);
  return name;
}

function tensorMetadata(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return { name: spec.name, datatype: spec.datatype, shape: spec.shape };
}
