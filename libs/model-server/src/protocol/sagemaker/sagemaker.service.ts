import { Buffer } from 'node:buffer';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { ContentFormat } from '../../codecs/content/content-codec.interface';
import { ContentCodecRegistry } from '../../codecs/content/content-codec.registry';
import { contentTarget } from '../../codecs/content/content-target.util';
import { parseMediaType, type MediaType, type NegotiatedType } from '../../codecs/content/media-type.util';
import type { WireInferenceRequest } from '../../codecs/wire-tensor.interface';
import { isModelServerError, type ModelServerError } from '../../errors/model-server.error';
import type { CallOptions } from '../../inference/call-options.interface';
import { DataPlane } from '../../inference/data-plane';
import type { ReadyVersion } from '../../inference/data-plane-request';
import type { RequestByteBudget } from '../../inference/request-byte-budget';
import { jsonValueBudget } from '../../inference/request-limits';
import type { InferenceResponse } from '../../model/inference.interface';
import { ModelState } from '../../model/model-state.enum';
import { usableSageMakerHooks, type ResolvedSageMakerHooks } from '../../model/sagemaker-hooks';
import { RESOLVED_OPTIONS } from '../../options/tokens';
import type { ResolvedModelServerOptions } from '../../options/model-server-options.interface';
import { ModelRepository } from '../../repository/model-repository';
import type { ModelVersion } from '../../repository/model-version';
import { checkInferenceRequest } from '../../codecs/v2-json/v2-request.schema';
import type { BatchStrategy } from './sagemaker-hooks.interface';
import { RESOLVED_SAGEMAKER_OPTIONS } from './sagemaker.module-definition';
import { DEFAULT_MAX_PAYLOAD_IN_MB, type ResolvedSageMakerOptions } from '../../options/sagemaker-options.interface';
import type { RequestTracer } from '../../tracing/request-tracer';
import { invalidRequest, modelNotFound, modelNotLoaded, notAcceptable, sageMakerInputInvalid, sageMakerOutputInvalid, unsupportedMediaType } from '../../errors';

const MIB = 1024 * 1024;

/** One `/invocations` call as the transport received it. @publicApi */
export interface Invocation {
  body: Buffer;
  /** `Content-Type` as sent. */
  contentType: string | undefined;
  /** `Accept` as sent. */
  accept: string | undefined;
  /** `X-Amzn-SageMaker-Target-Model` as sent. */
  targetModel: string | undefined;
  /**
   * The model the path names (`POST /models/{name}/invoke` of a multi-model endpoint), over `targetModel`, which
   * is then only passed on to model code and monitoring (as SageMaker means it, for logging).
   */
  model?: string;
  /** What the transport knows of the call: deadline, cancellation, headers for model code (protocol `sagemaker`). */
  call: CallOptions;
}

/** The answer to one `/invocations` call. @publicApi */
export interface InvocationResult {
  body: Buffer | string;
  contentType: string;
}

/** `GET /ping`'s verdict. @publicApi */
export interface PingResult {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
}

/** `GET /execution-parameters` (SageMaker Batch Transform). @publicApi */
export interface ExecutionParameters {
  MaxConcurrentTransforms: number;
  BatchStrategy: BatchStrategy;
  MaxPayloadInMB: number;
}

/**
 * The SageMaker serving contract over the data plane, for any transport: picks the model and runs the invocation
 * in the data plane, which reads the body with the model's `input` hook or the content codecs and writes the
 * answer with its `output` hook or the codecs inside the request (admitted, within its deadline, in its
 * monitoring event); `ping` (run by the data plane on the loaded model) and the Batch Transform execution
 * parameters. It never sees HTTP.
 *
 * @publicApi
 */
@Injectable()
export class SageMakerService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('SageMaker');

  constructor(
    @Inject(DataPlane) private readonly dataPlane: DataPlane,
    @Inject(ModelRepository) private readonly repository: ModelRepository,
    @Inject(ContentCodecRegistry) private readonly codecs: ContentCodecRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly serverOptions: ResolvedModelServerOptions,
    @Inject(RESOLVED_SAGEMAKER_OPTIONS) private readonly options: ResolvedSageMakerOptions,
  ) {
    this.reading = {
      codecs,
      defaultContentType: options.defaultContentType,
      maxTensorBytes: dataPlane.limits.maxTensorBytes,
      maxJsonValueBytes: jsonValueBudget(dataPlane.limits),
      negotiate: (accept, requestType) => this.negotiate(accept, requestType),
    };
  }

  /** What invocations read and write bodies with. */
  private readonly reading: InvocationCodecs;

  onModuleInit(): void {
    const name = this.options.defaultModel;
    if (name !== undefined && !this.repository.has(name)) {
      throw new Error(`SageMaker defaultModel '${name}' is not a configured model (the models are ${this.modelNames()})`);
    }
  }

  /** Reports invalid SageMaker hook declarations of the models loaded at boot, once, in the log. */
  onApplicationBootstrap(): void {
    for (const mv of this.repository.versions()) {
      if (mv.state !== ModelState.Ready) continue;
      const hooks = this.dataPlane.readyVersion(mv.name, mv.version).sageMaker;
      if (isModelServerError(hooks)) this.logger.error(hooks.message);
    }
  }

  /** The data plane's tracer (server spans of invocations). @internal */
  get tracer(): RequestTracer {
    return this.dataPlane.tracer;
  }

  /** The server-wide budget of request bytes being decoded and served, which large invocations are held in. */
  get byteBudget(): RequestByteBudget {
    return this.dataPlane.byteBudget;
  }

  /** The server's `maxJsonValueBytes` (raised with `maxInputs` / `maxOutputs`), which every JSON body of these routes is read within. */
  get maxJsonValueBytes(): number {
    return this.reading.maxJsonValueBytes;
  }

  /** The largest payload the server takes, in MB (the body limit, whole megabytes, at least 1). */
  get bodyLimitInMB(): number {
    return Math.max(1, Math.floor(this.serverOptions.maxBodyBytes / MIB));
  }

  /**
   * Runs one invocation. Coded errors say what went wrong: 404 unknown model, 415 content type, 406 accept...
   * A request to a known model gets one monitoring event, refused or not.
   */
  invoke(call: Invocation): Promise<InvocationResult> {
    const name = call.model ?? this.targetModel(call.targetModel);
    if (call.model !== undefined && !this.repository.has(name)) return Promise.reject(this.notServed(name));
    return this.dataPlane.begin('infer', name, undefined, this.callOptions(call)).invoke(new InvocationEdges(this.reading, name, call));
  }

  /**
   * Gives an invocation the transport refused before {@link invoke} (body over the limit, an encoding it does
   * not read) its monitoring event, as a request to the model it addressed (none when it addressed no model).
   */
  refused(targetModel: string | undefined, call: CallOptions, err: unknown, model?: string): void {
    let name: string;
    try {
      name = model ?? this.targetModel(targetModel);
    } catch {
      return;
    }
    this.dataPlane.begin('infer', name, undefined, call).refuse(err);
  }

  /**
   * Ready when every configured model is ready (models loaded at run time, by a multi-model endpoint, do not
   * count), no shutdown has begun and every `ping` hook says yes in time.
   */
  async ping(): Promise<PingResult> {
    if (!this.repository.isReady()) {
      const waiting = [...this.repository.versions()]
        .filter((mv) => mv.wanted && mv.state !== ModelState.Ready && !this.repository.isAdded(mv.name))
        .map((mv) => `${mv.label} (${mv.state})`);
      return { ready: false, reason: waiting.length > 0 ? `not ready: ${waiting.join(', ')}` : 'shutting down' };
    }
    const checks: Promise<string | null>[] = [];
    for (const mv of this.repository.versions()) {
      if (mv.state === ModelState.Ready) checks.push(this.pingModel(mv));
    }
    const failures = (await Promise.all(checks)).filter((r): r is string => r !== null);
    return failures.length === 0 ? { ready: true } : { ready: false, reason: failures.join('; ') };
  }

  /** The Batch Transform parameters, from the default model's hooks (or the defaults when there is none). */
  executionParameters(): ExecutionParameters {
    const name = this.defaultModel();
    const limit = this.bodyLimitInMB;
    const params: ExecutionParameters = {
      MaxConcurrentTransforms: this.options.maxConcurrentTransforms,
      BatchStrategy: 'MULTI_RECORD',
      MaxPayloadInMB: Math.min(DEFAULT_MAX_PAYLOAD_IN_MB, limit),
    };
    if (name === undefined) return params;
    const hooks = usableSageMakerHooks(this.dataPlane.readyVersion(name, undefined).sageMaker);
    if (hooks.maxConcurrentTransforms !== undefined) params.MaxConcurrentTransforms = hooks.maxConcurrentTransforms;
    if (hooks.batchStrategy !== undefined) params.BatchStrategy = hooks.batchStrategy;
    if (hooks.maxPayloadInMB !== undefined) params.MaxPayloadInMB = Math.min(hooks.maxPayloadInMB, limit);
    return params;
  }

  /** The model an invocation addresses: the target header (a `.tar.gz` suffix ignored), else the default model. */
  targetModel(header: string | undefined): string {
    if (header !== undefined && header.trim() !== '') {
      const name = header.trim();
      if (this.repository.has(name)) return name;
      const bare = name.replace(/\.(tar\.gz|tgz)$/, '');
      if (bare !== name && this.repository.has(bare)) return bare;
      throw this.notServed(name);
    }
    const fallback = this.defaultModel();
    if (fallback !== undefined) return fallback;
    throw invalidRequest(
      `name the model with the X-Amzn-SageMaker-Target-Model header (the models are ${this.modelNames()}), or configure a SageMaker default model`,
    );
  }

  /** The 404 of a name no model has, pointing to the listing of the mode: a multi-model endpoint's `GET /models`, else `GET /v2/models`. */
  private notServed(name: string): ModelServerError {
    return this.options.multiModel !== undefined ? modelNotLoaded(name) : modelNotFound(name);
  }

  private defaultModel(): string | undefined {
    if (this.options.defaultModel !== undefined) return this.options.defaultModel;
    const entries = [...this.repository.entries()];
    return entries.length === 1 ? entries[0].name : undefined;
  }

  private negotiate(accept: string | undefined, requestType: string): NegotiatedType {
    const preferred = this.options.defaultAccept ?? (this.codecs.encoder(requestType) !== undefined ? requestType : 'application/json');
    const chosen = this.codecs.negotiate(accept, preferred);
    if (chosen === undefined) throw notWritable(this.codecs, accept);
    return chosen;
  }

  /** The ping hook's verdict (null: ready), run by the data plane on the loaded model within the ping timeout. */
  private async pingModel(mv: ModelVersion): Promise<string | null> {
    let ready: ReadyVersion;
    let ping: ResolvedSageMakerHooks['ping'];
    try {
      ready = this.dataPlane.readyVersion(mv.name, mv.version);
      ping = usableSageMakerHooks(ready.sageMaker).ping;
    } catch (err) {
      return (err as Error).message;
    }
    if (ping === null) return null;
    const hook = ping;
    const label = mv.label;
    const timeoutMs = this.options.pingTimeoutMs;
    return this.dataPlane.check(
      ready,
      async () => {
        try {
          return (await hook()) === true ? null : `the ping hook of model ${label} answered not ready`;
        } catch (err) {
          return `the ping hook of model ${label} failed: ${err instanceof Error ? err.message : String(err)}`;
        }
      },
      timeoutMs,
      () => `the ping hook of model ${label} did not answer within ${timeoutMs} ms`,
    );
  }

  /** The transport's call options with the invocation timeout applied (the earlier deadline wins). */
  private callOptions(call: Invocation): CallOptions {
    const timeout = this.options.invocationTimeoutMs;
    if (timeout === undefined) return call.call;
    const deadline = Date.now() + timeout;
    return call.call.deadline !== undefined && call.call.deadline <= deadline ? call.call : { ...call.call, deadline };
  }

  private modelNames(): string {
    return [...this.repository.entries()].map((e) => `'${e.name}'`).join(', ');
  }
}

/**
 * One invocation's reading and writing, which the data plane runs inside the request (stages `input` and
 * `output`): the model's `input` hook or the content codecs, then its `output` hook or the codecs.
 */
class InvocationEdges {
  private readonly contentType: string;
  private readonly requestType: MediaType;
  /** The answer's type, once known. */
  private answer: NegotiatedType | undefined;
  private format: ContentFormat = 'rows';

  constructor(
    private readonly service: InvocationCodecs,
    private readonly name: string,
    private readonly call: Invocation,
  ) {
    this.contentType = call.contentType === undefined || call.contentType.trim() === '' ? service.defaultContentType : call.contentType;
    this.requestType = parseMediaType(this.contentType);
  }

  readonly input = async (ready: ReadyVersion): Promise<WireInferenceRequest> => {
    const hooks = usableSageMakerHooks(ready.sageMaker);
    // Without an output hook the answer's type is known now: refuse an impossible Accept before running the model.
    if (hooks.output === null) this.answer = this.service.negotiate(this.call.accept, this.requestType.type);
    if (hooks.input !== null) {
      const wire = await readWithHook(hooks.input, this.call.body, this.contentType, ready.version.label);
      if (wire !== undefined) return wire;
    }
    const codec = this.service.codecs.decoder(this.requestType.type);
    if (codec === undefined || codec.decode === undefined) {
      throw unsupportedMediaType(`content type '${this.requestType.type}' is not supported for /invocations; send one of ${this.service.codecs.readable.join(', ')}`);
    }
    const target = contentTarget(this.name, ready.version.inputs ?? [], this.service.maxTensorBytes, { maxJsonValueBytes: this.service.maxJsonValueBytes });
    const decoded = await codec.decode(this.call.body, target, this.requestType.params);
    this.format = decoded.format;
    return decoded.request;
  };

  readonly output = async (response: InferenceResponse, ready: ReadyVersion): Promise<InvocationResult> => {
    const hooks = usableSageMakerHooks(ready.sageMaker);
    const accept = this.call.accept;
    if (hooks.output !== null) {
      const out = await hooks.output(response, accept === undefined || accept.trim() === '' ? '*/*' : accept);
      if (out !== undefined) return checkOutput(out, ready.version.label);
    }
    const chosen = this.answer ?? this.service.negotiate(accept, this.requestType.type);
    const encoder = this.service.codecs.encoder(chosen.mediaType);
    if (encoder === undefined || encoder.encode === undefined) throw notWritable(this.service.codecs, accept);
    const body = await encoder.encode(response, { mediaType: chosen.mediaType, params: chosen.params, format: this.format });
    return { body, contentType: chosen.mediaType };
  };
}

/** What an invocation's reading and writing need of the service. */
interface InvocationCodecs {
  readonly codecs: ContentCodecRegistry;
  readonly defaultContentType: string;
  readonly maxTensorBytes: number;
  /** The estimated heap a large JSON body's values outside tensor data may take (`maxJsonValueBytes`). */
  readonly maxJsonValueBytes: number;
  negotiate(accept: string | undefined, requestType: string): NegotiatedType;
}

function notWritable(codecs: ContentCodecRegistry, accept: string | undefined): Error {
  return notAcceptable(`none of the accepted types (${accept}) can be written; /invocations answers ${codecs.writable.join(', ')}`);
}

/** An `input` hook's v2 request (undefined: let the codecs read the body); a plain error it throws is a 400. */
async function readWithHook(
  input: NonNullable<ResolvedSageMakerHooks['input']>,
  body: Buffer,
  contentType: string,
  label: string,
): Promise<WireInferenceRequest | undefined> {
  let value: unknown;
  try {
    value = await input(body, contentType);
  } catch (err) {
    if (isModelServerError(err)) throw err;
    throw invalidRequest(err instanceof Error ? err.message : String(err));
  }
  if (value === undefined) return undefined;
  try {
    return checkInferenceRequest(value);
  } catch (err) {
    throw sageMakerInputInvalid(label, (err as Error).message);
  }
}

function checkOutput(out: unknown, label: string): InvocationResult {
  const o = out as { body?: unknown; contentType?: unknown };
  if (typeof o !== 'object' || o === null || (typeof o.body !== 'string' && !Buffer.isBuffer(o.body)) || typeof o.contentType !== 'string' || o.contentType === '') {
    throw sageMakerOutputInvalid(label);
  }
  return { body: o.body as Buffer | string, contentType: o.contentType };
}
