import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { ContentFormat } from '../../codecs/content/content-codec.interface';
import { ContentCodecRegistry } from '../../codecs/content/content-codec.registry';
import { contentTarget } from '../../codecs/content/content-target.util';
import { parseMediaType, type NegotiatedType } from '../../codecs/content/media-type.util';
import type { WireInferenceRequest } from '../../codecs/wire-tensor.interface';
import { isModelServerError } from '../../errors/model-server.error';
import type { CallOptions } from '../../inference/call-options.interface';
import { DataPlane } from '../../inference/data-plane';
import type { RequestByteBudget } from '../../inference/request-byte-budget';
import { ModelState } from '../../model/model-state.enum';
import { RESOLVED_OPTIONS } from '../../options/tokens';
import type { ResolvedModelServerOptions } from '../../options/model-server-options.interface';
import { ModelRepository } from '../../repository/model-repository';
import type { ModelVersion } from '../../repository/model-version';
import { checkInferenceRequest } from '../../codecs/v2-json/v2-request.schema';
import { sageMakerHooks, type ResolvedSageMakerHooks } from './sagemaker-hooks.util';
import type { BatchStrategy } from './sagemaker-hooks.interface';
import { RESOLVED_SAGEMAKER_OPTIONS } from './sagemaker.module-definition';
import { DEFAULT_MAX_PAYLOAD_IN_MB, type ResolvedSageMakerOptions } from '../../options/sagemaker-options.interface';
import { invalidRequest, modelNotFound, notAcceptable, sageMakerInputInvalid, sageMakerOutputInvalid, unsupportedMediaType } from '../../errors';

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
 * The SageMaker serving contract over the data plane, for any transport: picks the model, reads the body with its
 * `input` hook or the content codecs, runs inference through the data plane, writes the answer with its `output`
 * hook or the codecs; `ping` and the Batch Transform execution parameters. It never sees HTTP.
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
  ) {}

  onModuleInit(): void {
    const name = this.options.defaultModel;
    if (name !== undefined && !this.repository.has(name)) {
      throw new Error(`SageMaker defaultModel '${name}' is not a configured model (the models are ${this.modelNames()})`);
    }
  }

  /** Reports invalid SageMaker hook declarations of the models loaded at boot, once, in the log. */
  onApplicationBootstrap(): void {
    for (const mv of this.repository.versions()) {
      if (mv.instance === null) continue;
      try {
        sageMakerHooks(mv.instance, mv.label);
      } catch (err) {
        this.logger.error((err as Error).message);
      }
    }
  }

  /** The server-wide budget of request bytes being decoded and served, which large invocations are held in. */
  get byteBudget(): RequestByteBudget {
    return this.dataPlane.byteBudget;
  }

  /** The largest payload the server takes, in MB (the body limit, whole megabytes, at least 1). */
  get bodyLimitInMB(): number {
    return Math.max(1, Math.floor(this.serverOptions.maxBodyBytes / MIB));
  }

  /** Runs one invocation. Coded errors say what went wrong: 404 unknown model, 415 content type, 406 accept... */
  async invoke(call: Invocation): Promise<InvocationResult> {
    const name = this.targetModel(call.targetModel);
    const mv = this.dataPlane.readyVersion(name, undefined);
    const hooks = sageMakerHooks(mv.instance!, mv.label);
    const contentType = call.contentType === undefined || call.contentType.trim() === '' ? this.options.defaultContentType : call.contentType;
    const requestType = parseMediaType(contentType);
    // Without an output hook the answer's type is known now: refuse an impossible Accept before running the model.
    let answer = hooks.output === null ? this.negotiate(call.accept, requestType.type) : undefined;

    let wire: WireInferenceRequest | undefined;
    let format: ContentFormat = 'rows';
    if (hooks.input !== null) wire = await this.runInputHook(hooks.input, call.body, contentType, mv);
    if (wire === undefined) {
      const codec = this.codecs.decoder(requestType.type);
      if (codec === undefined || codec.decode === undefined) {
        throw unsupportedMediaType(
          `content type '${requestType.type}' is not supported for /invocations; send one of ${this.codecs.readable.join(', ')}`,
        );
      }
      const decoded = await codec.decode(call.body, contentTarget(name, mv.inputs ?? [], this.dataPlane.limits.maxTensorBytes), requestType.params);
      wire = decoded.request;
      format = decoded.format;
    }

    const response = await this.dataPlane.infer(name, undefined, wire, this.callOptions(call));

    if (hooks.output !== null) {
      const out = await hooks.output(response, call.accept === undefined || call.accept.trim() === '' ? '*/*' : call.accept);
      if (out !== undefined) return checkOutput(out, mv.label);
      answer = this.negotiate(call.accept, requestType.type);
    }
    const chosen = answer!;
    const body = await this.codecs.encoder(chosen.mediaType)!.encode!(response, { mediaType: chosen.mediaType, params: chosen.params, format });
    return { body, contentType: chosen.mediaType };
  }

  /** Ready when every model is ready, no shutdown has begun and every `ping` hook says yes in time. */
  async ping(): Promise<PingResult> {
    if (!this.repository.isReady()) {
      const waiting = [...this.repository.versions()].filter((mv) => mv.wanted && mv.state !== ModelState.Ready).map((mv) => `${mv.label} (${mv.state})`);
      return { ready: false, reason: waiting.length > 0 ? `not ready: ${waiting.join(', ')}` : 'shutting down' };
    }
    const checks: Promise<string | null>[] = [];
    for (const mv of this.repository.versions()) {
      if (mv.state !== ModelState.Ready || mv.instance === null) continue;
      checks.push(this.pingModel(mv));
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
    const mv = this.dataPlane.readyVersion(name, undefined);
    const hooks = sageMakerHooks(mv.instance!, mv.label);
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
      throw modelNotFound(name);
    }
    const fallback = this.defaultModel();
    if (fallback !== undefined) return fallback;
    throw invalidRequest(
      `name the model with the X-Amzn-SageMaker-Target-Model header (the models are ${this.modelNames()}), or configure a SageMaker default model`,
    );
  }

  private defaultModel(): string | undefined {
    if (this.options.defaultModel !== undefined) return this.options.defaultModel;
    const entries = [...this.repository.entries()];
    return entries.length === 1 ? entries[0].name : undefined;
  }

  private negotiate(accept: string | undefined, requestType: string): NegotiatedType {
    const preferred = this.options.defaultAccept ?? (this.codecs.encoder(requestType) !== undefined ? requestType : 'application/json');
    const chosen = this.codecs.negotiate(accept, preferred);
    if (chosen === undefined) {
      throw notAcceptable(`none of the accepted types (${accept}) can be written; /invocations answers ${this.codecs.writable.join(', ')}`);
    }
    return chosen;
  }

  private async runInputHook(
    input: NonNullable<ResolvedSageMakerHooks['input']>,
    body: Buffer,
    contentType: string,
    mv: ModelVersion,
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
      throw sageMakerInputInvalid(mv.label, (err as Error).message);
    }
  }

  private async pingModel(mv: ModelVersion): Promise<string | null> {
    let hooks: ResolvedSageMakerHooks;
    try {
      hooks = sageMakerHooks(mv.instance!, mv.label);
    } catch (err) {
      return (err as Error).message;
    }
    if (hooks.ping === null) return null;
    const ping = hooks.ping;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the ping hook of model ${mv.label} did not answer within ${this.options.pingTimeoutMs} ms`), this.options.pingTimeoutMs);
    });
    const check = (async () => {
      try {
        return (await ping()) === true ? null : `the ping hook of model ${mv.label} answered not ready`;
      } catch (err) {
        return `the ping hook of model ${mv.label} failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    })();
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
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

function checkOutput(out: unknown, label: string): { body: Buffer | string; contentType: string } {
  const o = out as { body?: unknown; contentType?: unknown };
  if (typeof o !== 'object' || o === null || (typeof o.body !== 'string' && !Buffer.isBuffer(o.body)) || typeof o.contentType !== 'string' || o.contentType === '') {
    throw sageMakerOutputInvalid(label);
  }
  return { body: o.body as Buffer | string, contentType: o.contentType };
}
