import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  ValidateNested,
  ValidationError,
  validateSync,
} from 'class-validator';
import { DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT } from '../inference/request-byte-budget';
import { DEFAULT_REQUEST_LIMITS } from '../inference/request-limits';
import { isModelClass } from '../model/model-server';
import type { ModelConfig, ModelVersionConfig } from '../repository/model-config.interface';
import {
  DEFAULT_MAX_BODY_BYTES,
  type ModelServerModuleOptions,
  type ResolvedModelServerOptions,
} from './model-server-options.interface';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

class VersionRules {
  @IsString() @Matches(NAME, { message: 'version must be 1-128 letters, digits, "_", "." or "-"' }) version!: string;
  @IsOptional() @IsString() modelPath?: string;
  @IsOptional() @IsObject() parameters?: Record<string, unknown>;
  @IsOptional() @IsObject() labels?: Record<string, string>;
  @IsOptional() @IsBoolean() default?: boolean;
  @IsOptional() @IsString() modulePath?: string;
  @IsOptional() @IsString() className?: string;
}

class ModelRules {
  @IsString() @Matches(NAME, { message: 'name must be 1-128 letters, digits, "_", "." or "-"' }) name!: string;
  @IsOptional() @IsString() modelPath?: string;
  @IsOptional() @IsObject() parameters?: Record<string, unknown>;
  @IsOptional() @IsObject() labels?: Record<string, string>;
  @IsOptional() @IsIn(['blocking', 'background']) loadMode?: string;
  @IsOptional() @IsString() platform?: string;
  @IsOptional() @IsArray() inputs?: unknown[];
  @IsOptional() @IsArray() outputs?: unknown[];
  @IsOptional() @Matches(PATH, { message: 'inputPath must be a dotted path like "data.request"' }) inputPath?: string;
  @IsOptional() @Matches(PATH, { message: 'resultPath must be a dotted path like "result"' }) resultPath?: string;
  @IsOptional() @IsInt() @Min(0) maxInFlight?: number;
  @IsOptional() @IsInt() @Min(0) timeoutMs?: number;
  @IsOptional() @IsString() modulePath?: string;
  @IsOptional() @IsString() className?: string;
  @IsOptional() @IsInt() @Min(0) workers?: number;
  @IsOptional() @IsInt() @Min(1) maxBatchSize?: number;
  @IsOptional() @IsNumber() @Min(0) maxLatencyMs?: number;
  @IsOptional() @IsInt() @Min(1) maxQueue?: number;
  @IsOptional() @IsBoolean() loadInMainThread?: boolean;
  @IsOptional() @IsInt() @Min(0) workerKillGraceMs?: number;
  @IsOptional() @IsInt() @Min(0) unloadWaitMs?: number;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) versions?: VersionRules[];
}

class AuthRules {
  @IsOptional() @IsArray() @IsString({ each: true }) tokens?: string[];
  @IsOptional() @IsString() tokensFile?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9-]+$/, { message: 'apiKeyHeader must be a header name' }) apiKeyHeader?: string;
  @IsOptional() @IsBoolean() protectHealth?: boolean;
  @IsOptional() @IsBoolean() protectMetrics?: boolean;
  @IsOptional() @IsBoolean() protectDocs?: boolean;
}

class OptionsRules {
  @IsArray() @ValidateNested({ each: true }) models!: ModelRules[];
  @IsOptional() @IsIn(['blocking', 'background']) loadMode?: string;
  @IsOptional() @IsInt() @Min(1024) maxBodyBytes?: number;
  @IsOptional() @IsString() serverName?: string;
  @IsOptional() @IsString() serverVersion?: string;
  @IsOptional() @IsBoolean() debug?: boolean;
  @IsOptional() @IsBoolean() rest?: boolean;
  @IsOptional() @IsBoolean() docs?: boolean;
  @IsOptional() @IsObject() @ValidateNested() auth?: AuthRules;
  @IsOptional() @IsInt() @Min(0) maxInFlight?: number;
  @IsOptional() @IsInt() @Min(0) requestTimeoutMs?: number;
  @IsOptional() @IsBoolean() modelControl?: boolean;
  @IsOptional() @IsInt() @Min(1) maxInputs?: number;
  @IsOptional() @IsInt() @Min(1) maxOutputs?: number;
  @IsOptional() @IsInt() @Min(0) maxParameters?: number;
  @IsOptional() @IsInt() @Min(1024) maxTensorBytes?: number;
  @IsOptional() @IsInt() @Min(0) maxRequestBytesInFlight?: number;
}

function asRules<T extends object>(Rules: new () => T, value: unknown): T {
  return Object.assign(new Rules(), value);
}

function flatten(errors: ValidationError[], prefix: string, out: string[]): string[] {
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push(`${path}: ${message}`);
    flatten(e.children ?? [], path, out);
  }
  return out;
}

/**
 * Checks the module's options (class-validator) and applies defaults; one error lists every problem.
 *
 * @internal
 */
export function validateOptions(options: ModelServerModuleOptions, packageVersion: string): ResolvedModelServerOptions {
  const rules = asRules(OptionsRules, options);
  if (typeof options.auth === 'object' && options.auth !== null) rules.auth = asRules(AuthRules, options.auth);
  if (Array.isArray(options.models)) {
    rules.models = options.models.map((m: ModelConfig) => {
      const model = asRules(ModelRules, m);
      if (Array.isArray(m.versions)) model.versions = m.versions.map((v: ModelVersionConfig) => asRules(VersionRules, v));
      return model;
    });
  }
  const problems = flatten(validateSync(rules, { forbidUnknownValues: false }), '', []);
  (options.models ?? []).forEach((m, i) => {
    if (!isModelClass(m?.model)) problems.push(`models[${i}].model: must be a class that extends ModelServer`);
    m?.versions?.forEach((v, j) => {
      if (v?.model !== undefined && !isModelClass(v.model)) {
        problems.push(`models[${i}].versions[${j}].model: must be a class that extends ModelServer`);
      }
      if (typeof m.workers === 'number' && m.workers > 0 && v?.model !== undefined && v.modulePath === undefined) {
        problems.push(`models[${i}].versions[${j}].modulePath: this version has its own class and runs in worker threads, which load it from its file: set modulePath (and className)`);
      }
    });
    if (typeof m?.workers === 'number' && m.workers > 0 && (typeof m.modulePath !== 'string' || m.modulePath === '')) {
      problems.push(
        `models[${i}].modulePath: workers: ${m.workers} loads the model class again in each worker thread, from its file: ` +
          'set modulePath (the file that exports the class) and, if the export has another name than the class, className',
      );
    }
  });
  if (problems.length > 0) throw new Error(`invalid model server options:\n  - ${problems.join('\n  - ')}`);
  return {
    models: options.models,
    loadMode: options.loadMode ?? 'blocking',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    serverName: options.serverName ?? 'nest-model-server',
    serverVersion: options.serverVersion ?? packageVersion,
    debug: options.debug ?? false,
    rest: options.rest ?? true,
    docs: options.docs ?? true,
    auth: options.auth ?? {},
    maxInFlight: options.maxInFlight ?? 4096,
    requestTimeoutMs: options.requestTimeoutMs ?? 0,
    modelControl: options.modelControl ?? false,
    maxInputs: options.maxInputs ?? DEFAULT_REQUEST_LIMITS.maxInputs,
    maxOutputs: options.maxOutputs ?? DEFAULT_REQUEST_LIMITS.maxOutputs,
    maxParameters: options.maxParameters ?? DEFAULT_REQUEST_LIMITS.maxParameters,
    maxTensorBytes: options.maxTensorBytes ?? DEFAULT_REQUEST_LIMITS.maxTensorBytes,
    maxRequestBytesInFlight: options.maxRequestBytesInFlight ?? DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT,
    executorFactory: options.executorFactory,
  };
}
