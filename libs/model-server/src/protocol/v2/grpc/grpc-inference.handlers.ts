import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import {
  type handleUnaryCall,
  type Metadata,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { clip } from '../../../errors/clip.util';
import { isModelServerError } from '../../../errors/model-server.error';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { DataPlaneRequest } from '../../../inference/data-plane-request';
import type { ModelCatalog, ModelListing } from '../../../inference/model-catalog';
import { ModelState } from '../../../model/model-state.enum';
import type { TensorSpec } from '../../../model/tensor.interface';
import { endGrpcServerSpan, grpcCallOptions, sendTraceMetadata, startGrpcServerSpan, type GrpcCallOptions } from './grpc-call.util';
import { thrownText } from './grpc-errors.util';
import { MalformedMessage } from './grpc-service.definition';
import { toGrpcError, type GrpcErrorAnswer } from './grpc-status.map';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.decoder';
import { encodeInferResponse, encodeStreamError, needsRawResponse } from './infer-response.encoder';
import { InferStream } from './infer-stream';
import type { ResponseStream } from '../../../inference/response-stream';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { CancellableCall } from './work-slicer.util';
import { errorLogLevel, invalidRequest } from '../../../errors';

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

  private readonly serverLive = this.unary('ServerLive', () => ({ live: this.catalog.live() }));

  private readonly serverReady = this.unary('ServerReady', () => ({ ready: this.catalog.ready() }));

  private readonly serverMetadata = this.unary('ServerMetadata', () => this.catalog.serverMetadata());

  private readonly modelReady = this.unary('ModelReady', (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>) => {
    const { name, version } = nameVersion(call.request, 'ModelReadyRequest');
    return { ready: this.catalog.modelReady(name, version) };
  });

  private readonly modelMetadata = this.unary('ModelMetadata', (call: ServerUnaryCall<NameVersion | MalformedMessage, unknown>) => {
    const { name, version } = nameVersion(call.request, 'ModelMetadataRequest');
    const meta = this.catalog.modelMetadata(name, version);
    return {
      name: meta.name,
      versions: meta.versions ?? [],
      platform: meta.platform,
      inputs: meta.inputs.map(tensorMetadata),
      outputs: meta.outputs.map(tensorMetadata),
    };
  });

  private readonly repositoryIndex = this.unary('RepositoryIndex', (call: ServerUnaryCall<RepositoryIndexMessage | MalformedMessage, unknown>) => {
    const request = checked(call.request, 'RepositoryIndexRequest');
    const models = this.catalog.repositoryIndex(request.ready).map((row) => ({
      name: row.name,
      version: row.version ?? '',
      state: row.state,
      reason: row.reason ?? '',
    }));
    return { models };
  });

  /** A version that does not end up ready fails the load: the catalog throws, as it does for REST. */
  private readonly repositoryModelLoad = this.unary('RepositoryModelLoad', async (call: ServerUnaryCall<RepositoryModelMessage | MalformedMessage, unknown>) => {
    const name = repositoryModelName(call.request, 'RepositoryModelLoadRequest');
    await this.catalog.loadModel(name);
    return { model_name: name, isLoaded: true };
  });

  private readonly repositoryModelUnload = this.unary('RepositoryModelUnload', async (call: ServerUnaryCall<RepositoryModelMessage | MalformedMessage, unknown>) => {
    const name = repositoryModelName(call.request, 'RepositoryModelUnloadRequest');
    const listing: ModelListing = await this.catalog.unloadModel(name);
    return { model_name: name, isUnloaded: listing.versions.every((v) => v.state === ModelState.Unloaded) };
  });

  /** ModelInfer answers from its one async function (no promise chained after it), else as {@link unary} does. */
  private readonly modelInfer = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    void this.serveInfer(call, callback);
  };

  /**
   * One ModelInfer: holds the message's bytes in the data plane's byte budget from before decoding until
   * answered (UNAVAILABLE + retry-after when the budget is full), decodes (sliced when large, stopping if the
   * call is cancelled), runs the data plane, encodes, and answers: the bytes, or the failure's status through
   * the one map, logged once. Never rejects.
   */
  private async serveInfer(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> {
    const bytes = call.request;
    const budget = this.dataPlane.byteBudget;
    let held = -1;
    let options: GrpcCallOptions | undefined;
    const opened = new Opened(this.dataPlane);
    const span = startGrpcServerSpan(this.dataPlane.tracer, 'ModelInfer', call.metadata);
    let answer: Buffer | undefined;
    let failure: unknown;
    try {
      if (span !== null) sendTraceMetadata(call, span);
      budget.acquire(bytes.length);
      held = bytes.length;
      options = opened.call = grpcCallOptions(call);
      if (span !== null) options.traceContext = span.context;
      const decoded = decodeInferRequest(bytes, this.dataPlane.limits, call, opened.open);
      const request = decoded instanceof Promise ? await decoded : decoded;
      const response = await opened.open(request.modelName, request.modelVersion).run(request.wire);
      const encoded = this.encode(response, request, 0, call);
      answer = encoded instanceof Promise ? await encoded : encoded;
      options.cancellation.settle();
      if (span !== null) endGrpcServerSpan(span, 0);
    } catch (err) {
      failure = err;
      options?.cancellation.settle();
      opened.request?.refuse(err);
      if (span !== null) endGrpcServerSpan(span, toGrpcError(err, false).error.code);
    } finally {
      if (held >= 0) budget.release(held);
    }
    if (answer !== undefined) this.reply(callback, answer, 'ModelInfer');
    else this.fail(callback, failure, 'ModelInfer');
  }

  private readonly modelStreamInfer = (call: ServerDuplexStream<Buffer, Buffer>): void => {
    new InferStream(call, this, this.settings.maxStreamInFlight).start();
  };

  /** The answer to a decoded request: its response encoded within the send limit (a Promise when sliced). */
  private encode(response: InferenceResponse, request: DecodedInferRequest, wrapField: number, call: CancellableCall): Buffer | Promise<Buffer> {
    return encodeInferResponse(response, needsRawResponse(response, request.raw), this.settings.maxSendMessageBytes, wrapField, call);
  }

  /**
   * One ModelStreamInfer answer: the ModelStreamInferResponse bytes for the request, or for its failure
   * (`error_message` with the model, version and id it was for). The request holds its bytes in the byte
   * budget until its answer is made (a full budget is its failure, UNAVAILABLE's text). Never rejects.
   *
   * @internal
   */
  async streamAnswer(bytes: Buffer, options: CallOptions, call: CancellableCall, metadata?: Metadata): Promise<Buffer | AsyncIterable<Buffer>> {
    const budget = this.dataPlane.byteBudget;
    let held = -1;
    let request: DecodedInferRequest | undefined;
    const opened = new Opened(this.dataPlane);
    const span = metadata === undefined ? null : startGrpcServerSpan(this.dataPlane.tracer, 'ModelStreamInfer', metadata);
    opened.call = span === null ? options : { ...options, traceContext: span.context };
    try {
      budget.acquire(bytes.length);
      held = bytes.length;
      const decoded = decodeInferRequest(bytes, this.dataPlane.limits, call, opened.open);
      request = decoded instanceof Promise ? await decoded : decoded;
      if (this.streams(request)) {
        const emptyFinal = wantsEmptyFinal(request);
        // The stream's span covers starting the model; its parts follow on the same call.
        const parts = this.decoupled(await opened.open(request.modelName, request.modelVersion).stream(request.wire), request, emptyFinal, call);
        if (span !== null) endGrpcServerSpan(span, 0);
        return parts;
      }
      const response = await opened.open(request.modelName, request.modelVersion).run(request.wire);
      const encoded = this.encode(response, request, 2, call);
      const answer = encoded instanceof Promise ? await encoded : encoded;
      if (span !== null) endGrpcServerSpan(span, 0);
      return answer;
    } catch (err) {
      const answer = toGrpcError(err, this.settings.debug);
      if (span !== null) endGrpcServerSpan(span, answer.error.code);
      this.logFailure('ModelStreamInfer', err, answer);
      opened.request?.refuse(err);
      return encodeStreamError(answer.error.details, request?.modelName ?? '', request?.modelVersion, request?.wire.id ?? '');
    } finally {
      if (held >= 0) budget.release(held);
    }
  }

  /** Whether the model a stream's request names streams (`predictStream`): it is then answered in parts. */
  private streams(request: DecodedInferRequest): boolean {
    try {
      return this.dataPlane.readyVersion(request.modelName, request.modelVersion).hooks.predictStream !== null;
    } catch {
      return false; // not there or not ready: the plain run answers why
    }
  }

  /**
   * A streaming model's answers to one ModelStreamInfer request, as Triton's decoupled models give them: one
   * response per part, sent as soon as the model made it, each with the parameter `triton_final_response` false; a
   * failure after the first part is an `error_message` response. A model's stream says it is complete only by
   * ending, after its last part went out, which is what Triton does for a decoupled model that sends its final
   * flag without a response:
   *
   * - with the request parameter `triton_enable_empty_final_response: true`, an empty response (no outputs) with
   *   the flag true ends the request (what Triton's clients read to know a request on a shared stream is complete);
   * - without it (absent or false), nothing more is sent: a failure is then the request's last response and says
   *   true. No part is held back to carry the flag: that would delay every part, the first one included, until
   *   the model made the next.
   *
   * Stopping the iteration (the call was cancelled) ends the model's stream.
   */
  private async *decoupled(parts: ResponseStream, request: DecodedInferRequest, emptyFinal: boolean, call: CancellableCall): AsyncGenerator<Buffer> {
    let name = request.modelName;
    let version = request.modelVersion;
    try {
      for await (const part of parts) {
        name = part.model_name;
        version = part.model_version;
        const encoded = this.streamPart(part, false, request, call);
        yield encoded instanceof Promise ? await encoded : encoded;
      }
    } catch (err) {
      const answer = toGrpcError(err, this.settings.debug);
      this.logFailure('ModelStreamInfer', err, answer);
      yield encodeStreamError(answer.error.details, name, version, parts.id, { [FINAL_RESPONSE]: !emptyFinal });
    }
    if (!emptyFinal) return;
    const empty: InferenceResponse = { model_name: name, id: parts.id, outputs: [] };
    if (version !== undefined) empty.model_version = version;
    const encoded = this.streamPart(empty, true, request, call);
    yield encoded instanceof Promise ? await encoded : encoded;
  }

  /** One response of a decoupled stream, with its `triton_final_response` (a Promise when encoded in slices). */
  private streamPart(part: InferenceResponse, final: boolean, request: DecodedInferRequest, call: CancellableCall): Buffer | Promise<Buffer> {
    part.parameters = { ...part.parameters, [FINAL_RESPONSE]: final };
    return encodeInferResponse(part, part.outputs.length > 0 && needsRawResponse(part, request.raw), this.settings.maxSendMessageBytes, 2, call);
  }

  /** Logs a fault of the stream itself (not of one request on it). @internal */
  streamFault(err: unknown): void {
    this.logFault('ModelStreamInfer', err);
  }

  /** The status a stream ends with after a fault of its own. @internal */
  streamStatus(err: unknown): GrpcErrorAnswer['error'] {
    return toGrpcError(err, this.settings.debug).error;
  }

  /**
   * A unary RPC's handler from what computes its answer: the answer is sent, and whatever `run` throws or
   * rejects with becomes the call's status through the one map, logged once. The one try/catch of every unary
   * RPC but ModelInfer (whose serveInfer answers through the same reply and fail); it never throws or rejects itself.
   */
  private unary<Req, Res>(rpc: string, run: (call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      let answer: Res | Promise<Res>;
      try {
        answer = run(call);
      } catch (err) {
        this.fail(callback, err, rpc);
        return;
      }
      if (answer instanceof Promise) {
        answer.then(
          (value) => this.reply(callback, value, rpc),
          (err: unknown) => this.fail(callback, err, rpc),
        );
      } else {
        this.reply(callback, answer, rpc);
      }
    };
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

  /** Logged as the catalogue says, as over REST: a server fault with its cause's stack, a passed deadline as one warning line. */
  private logFailure(rpc: string, err: unknown, answer: GrpcErrorAnswer): void {
    const level = errorLogLevel(err);
    if (level === 'error') this.logFault(rpc, err);
    else if (level === 'warn') this.logger.warn(`${rpc}: ${answer.error.details}`);
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

/** The response parameter Triton's clients read to know a decoupled request's responses are complete. */
const FINAL_RESPONSE = 'triton_final_response';
/** The request parameter by which a client of a decoupled stream asks for an empty final response. */
const EMPTY_FINAL_RESPONSE = 'triton_enable_empty_final_response';

/** Whether a streaming request asks for an empty final response; a value that is not a boolean is refused. */
function wantsEmptyFinal(request: DecodedInferRequest): boolean {
  const value = request.wire.parameters?.[EMPTY_FINAL_RESPONSE];
  if (value === undefined || typeof value === 'boolean') return value === true;
  throw invalidRequest(`the parameter "${EMPTY_FINAL_RESPONSE}" must be a boolean (bool_param)`);
}

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
