import { Logger } from '@nestjs/common';
import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerUnaryCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ErrorCode } from '../../../errors/error-code.enum';
import { invalidRequest } from '../../../errors/errors';
import { ModelServerError } from '../../../errors/model-server.error';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { ModelCatalog, ModelListing } from '../../../inference/model-catalog';
import { ModelState } from '../../../model/model-state.enum';
import type { TensorSpec } from '../../../model/tensor.interface';
import { grpcCallOptions, type GrpcCallOptions } from './grpc-call.util';
import { MalformedMessage } from './grpc-service.definition';
import { toGrpcError } from './grpc-status.map';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.decoder';
import { encodeInferResponse, encodeStreamError, needsRawResponse } from './infer-response.encoder';
import { InferStream } from './infer-stream';
import { responseTooLarge } from './message-limit.interceptor';

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
    callback(null, { live: this.catalog.live() });
  };

  private readonly serverReady = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    callback(null, { ready: this.catalog.ready() });
  };

  private readonly serverMetadata = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    callback(null, this.catalog.serverMetadata());
  };

  private readonly modelReady = (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      const { name, version } = nameVersion(call.request, 'ModelReadyRequest');
      callback(null, { ready: this.catalog.modelReady(name, version) });
    } catch (err) {
      this.fail(callback, err, 'ModelReady');
    }
  };

  private readonly modelMetadata = (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>, callback: sendUnaryData<unknown>): void => {
    try {
      const { name, version } = nameVersion(call.request, 'ModelMetadataRequest');
      const meta = this.catalog.modelMetadata(name, version);
      callback(null, {
        name: meta.name,
        versions: meta.versions ?? [],
        platform: meta.platform,
        inputs: meta.inputs.map(tensorMetadata),
        outputs: meta.outputs.map(tensorMetadata),
      });
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
      callback(null, { models });
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
      if (failed !== undefined) {
        const which = failed.version === undefined ? `'${name}'` : `'${name}' version '${failed.version}'`;
        throw new ModelServerError(ErrorCode.NotReady, `model ${which} did not load (${failed.state})${failed.reason ? `: ${failed.reason}` : ''}`);
      }
      callback(null, { model_name: name, isLoaded: true });
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
      callback(null, { model_name: name, isUnloaded: listing.versions.every((v) => v.state === ModelState.Unloaded) });
    } catch (err) {
      this.fail(callback, err, 'RepositoryModelUnload');
    }
  };

  private readonly modelInfer = async (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> => {
    let options: GrpcCallOptions | undefined;
    let request: DecodedInferRequest | undefined;
    try {
      request = decodeInferRequest(call.request);
      options = grpcCallOptions(call);
      const answer = await this.infer(request, options);
      options.cancellation.settle();
      callback(null, answer);
    } catch (err) {
      options?.cancellation.settle();
      // Monitoring's event for a refusal before the data plane traced the request (not ready, overloaded...).
      if (request !== undefined) this.dataPlane.reportRejected('infer', request.modelName, request.modelVersion, request.wire, err, options ?? { protocol: 'grpc' });
      this.fail(callback, err, 'ModelInfer');
    }
  };

  private readonly modelStreamInfer = (call: ServerDuplexStream<Buffer, Buffer>): void => {
    new InferStream(call, this, this.settings.maxStreamInFlight).start();
  };

  /** Runs one decoded request through the data plane and encodes the answer, within the send limit. */
  private async infer(request: DecodedInferRequest, options: CallOptions, wrapField = 0): Promise<Buffer> {
    const response = await this.dataPlane.infer(request.modelName, request.modelVersion, request.wire, options);
    const bytes = encodeInferResponse(response, needsRawResponse(response, request.raw), wrapField);
    if (bytes.length > this.settings.maxSendMessageBytes) {
      throw new ModelServerError(ErrorCode.PayloadTooLarge, responseTooLarge(bytes.length, this.settings.maxSendMessageBytes));
    }
    return bytes;
  }

  /**
   * One ModelStreamInfer answer: the ModelStreamInferResponse bytes for the request, or for its failure
   * (`error_message` with the model, version and id it was for). Never rejects.
   *
   * @internal
   */
  async streamAnswer(bytes: Buffer, options: CallOptions): Promise<Buffer> {
    let request: DecodedInferRequest | undefined;
    try {
      request = decodeInferRequest(bytes);
      return await this.infer(request, options, 2);
    } catch (err) {
      const answer = toGrpcError(err, this.settings.debug);
      if (answer.serverFault) this.logFault('ModelStreamInfer', err);
      return encodeStreamError(answer.error.details, request?.modelName ?? '', request?.modelVersion, request?.wire.id ?? '');
    }
  }

  /** Logs a fault of the stream itself (not of one request on it). @internal */
  streamFault(err: unknown): void {
    this.logFault('ModelStreamInfer', err);
  }

  private fail(callback: sendUnaryData<never>, err: unknown, rpc: string): void {
    const answer = toGrpcError(err, this.settings.debug);
    if (answer.serverFault) this.logFault(rpc, err);
    callback(answer.error as Parameters<typeof callback>[0]);
  }

  private logFault(rpc: string, err: unknown): void {
    this.logger.error(`${rpc}: ${err instanceof Error ? err.message : String(err)}`, err instanceof Error ? err.stack : undefined);
  }
}

function checked<T>(request: T | MalformedMessage, message: string): T {
  if (request instanceof MalformedMessage) throw invalidRequest(`the ${message} message is malformed: ${request.reason}`);
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
