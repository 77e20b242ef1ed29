import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import type { ModelServerError } from '../errors/model-server.error';
import type { PredictExecutor } from '../execution/predict-executor.interface';
import type { InferenceResponse } from '../model/inference.interface';
import type { ModelHooks } from '../model/model-hooks';
import type { ModelServer } from '../model/model-server';
import type { ResolvedSageMakerHooks } from '../model/sagemaker-hooks';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions, OperationInput, OperationOutput } from './call-options.interface';
import type { ResponseStream } from './response-stream';

/** A model version that is ready to serve, with the loaded generation serving it now. @internal */
export interface ReadyVersion {
  readonly version: ModelVersion;
  readonly instance: ModelServer;
  readonly hooks: ModelHooks;
  readonly executor: PredictExecutor;
  /** Its SageMaker hooks as read at load, or the problem with their declaration. */
  readonly sageMaker: ResolvedSageMakerHooks | ModelServerError;
}

/**
 * A transport's own reading and writing of a request (SageMaker's bodies), run by the data plane inside the
 * request: admitted, within its deadline, timed as the stages `input` and `output`, and in its monitoring event.
 *
 * @internal
 */
export interface RequestEdges<T> {
  /** Reads the v2 request from what the transport received. */
  input(ready: ReadyVersion): WireInferenceRequest | Promise<WireInferenceRequest>;
  /** Writes the answer from the response. */
  output(response: InferenceResponse, ready: ReadyVersion): T | Promise<T>;
}

/** What a {@link DataPlaneRequest} needs of its data plane. @internal */
export interface RequestRunner {
  run(req: DataPlaneRequest, wire: WireInferenceRequest, raw: unknown): InferenceResponse | Promise<InferenceResponse>;
  operation(req: DataPlaneRequest, input: OperationInput, raw: unknown): Promise<OperationOutput>;
  invoke<T>(req: DataPlaneRequest, edges: RequestEdges<T>): Promise<T>;
  refuse(req: DataPlaneRequest, err: unknown, raw: unknown): void;
  stream(req: DataPlaneRequest, wire: WireInferenceRequest, raw: unknown): Promise<ResponseStream>;
}

/**
 * One request to a model, opened by its transport before it reads the body: it then runs the request, or is
 * told why the transport refused it (an unreadable body, a failed check). Either way the data plane gives the
 * request exactly one monitoring event, when it addresses an operation a known model has.
 *
 * @internal
 */
export class DataPlaneRequest {
  /** Whether its event is taken care of (emitted, or owed by the run it started). */
  private settled = false;

  constructor(
    private readonly runner: RequestRunner,
    /** `infer`, `explain` or a custom operation's name. */
    readonly op: string,
    readonly name: string,
    readonly version: string | undefined,
    /** What the transport knows of the call; it may complete it (e.g. the body's text) before the run. */
    readonly call: CallOptions,
  ) {}

  /**
   * Runs `infer` or `explain` (the operation it was opened for). `raw` is what the event of a refusal by the data
   * plane (not ready, overloaded) shows as the request: the body as received, when it differs from `wire`.
   * The response itself when every stage was synchronous (no promise made), else a promise of it; a failure is
   * always a rejected promise.
   */
  run(wire: WireInferenceRequest, raw: unknown = wire): InferenceResponse | Promise<InferenceResponse> {
    this.settle();
    return this.runner.run(this, wire, raw);
  }

  /**
   * Runs `infer` as a stream (the model's `predictStream`): resolves once `preprocess`/`validate` ran and the
   * model started, so a refusal is still an error answer; the partial responses are then pulled from the stream.
   */
  stream(wire: WireInferenceRequest, raw: unknown = wire): Promise<ResponseStream> {
    this.settle();
    return this.runner.stream(this, wire, raw);
  }

  /** Runs the custom operation it was opened for (`raw` as for {@link run}). */
  operation(input: OperationInput, raw: unknown = input.wire ?? input.body): Promise<OperationOutput> {
    this.settle();
    return this.runner.operation(this, input, raw);
  }

  /** Runs `infer` or `explain` (the operation it was opened for) with the transport's own reading and writing inside the request. */
  invoke<T>(edges: RequestEdges<T>): Promise<T> {
    this.settle();
    return this.runner.invoke(this, edges);
  }

  /** The transport refused the request: its event, unless it has one already. Never throws. */
  refuse(err: unknown, raw?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.runner.refuse(this, err, raw);
  }

  private settle(): void {
    if (this.settled) throw new Error(`the request to model '${this.name}' was already run or refused`);
    this.settled = true;
  }
}
