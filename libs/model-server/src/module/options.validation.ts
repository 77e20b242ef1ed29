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
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT } from '../inference/request-byte-budget';
import { DEFAULT_REQUEST_LIMITS } from '../inference/request-limits';
import { isModelClass } from '../model/model-server';
import type { ModelConfig, ModelVersionConfig } from '../repository/model-config.interface';
import {
  MODEL_SERVER_DEFAULTS,
  type ModelServerModuleOptions,
  type ResolvedModelServerOptions,
} from '../options/model-server-options.interface';
import { validateOrThrow, withDefaults } from '../options/validate.util';
import { constructorDependencies } from './model-injector';

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
  @IsOptional() @IsBoolean() v1?: boolean;
  @IsOptional() @IsBoolean() docs?: boolean;
  @IsOptional() @IsBoolean() openai?: boolean;
  @IsOptional() @IsObject() @ValidateNested() auth?: AuthRules;
  @IsOptional() @IsInt() @Min(0) maxInFlight?: number;
  @IsOptional() @IsInt() @Min(0) requestTimeoutMs?: number;
  @IsOptional() @IsBoolean() modelControl?: boolean;
  @IsOptional() @IsInt() @Min(1) maxInputs?: number;
  @IsOptional() @IsInt() @Min(1) maxOutputs?: number;
  @IsOptional() @IsInt() @Min(0) maxParameters?: number;
  @IsOptional() @IsInt() @Min(1024) maxTensorBytes?: number;
  @IsOptional() @IsInt() @Min(1024) maxJsonValueBytes?: number;
  @IsOptional() @IsInt() @Min(0) maxRequestBytesInFlight?: number;
  @IsOptional() @IsInt() @Min(0) @Max(1024) streamBufferChunks?: number;
}

/** Why a model that needs Nest's injector cannot run in worker threads. */
function inWorkers(workers: number, needs: string): string {
  return (
    `workers: ${workers} builds the model in each worker thread with \`new\` and no arguments, but ${needs}; ` +
    "Nest's container lives in the main thread and cannot inject into another thread. Serve it in process (workers: 0), " +
    'or give the class a constructor without parameters and read its settings in load() (context.getParam)'
  );
}

function asRules<T extends object>(Rules: new () => T, value: unknown): T {
  return Object.assign(new Rules(), value);
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
  const problems: string[] = [];
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
    if (m?.useFactory !== undefined && typeof m.useFactory !== 'function') problems.push(`models[${i}].useFactory: must be a function that returns the model`);
    if (m?.inject !== undefined && !Array.isArray(m.inject)) problems.push(`models[${i}].inject: must be a list of providers (tokens) for useFactory`);
    if (typeof m?.workers === 'number' && m.workers > 0) {
      const classes = [m.model, ...(m.versions ?? []).map((v) => v?.model)].filter((c) => isModelClass(c));
      for (const cls of new Set(classes)) {
        const deps = constructorDependencies(cls);
        if (deps.length > 0) problems.push(`models[${i}] ('${m.name}'): ${inWorkers(m.workers, `${cls.name}'s constructor asks for ${deps.join(', ')}`)}`);
      }
      if (m.useFactory !== undefined) problems.push(`models[${i}] ('${m.name}'): ${inWorkers(m.workers, 'the model is built by its useFactory')}`);
    }
    if (typeof m?.workers === 'number' && m.workers > 0 && (typeof m.modulePath !== 'string' || m.modulePath === '')) {
      problems.push(
        `models[${i}].modulePath: workers: ${m.workers} loads the model class again in each worker thread, from its file: ` +
          'set modulePath (the file that exports the class) and, if the export has another name than the class, className',
      );
    }
  });
  validateOrThrow('model server', rules, problems);
  return {
    ...withDefaults<Omit<ResolvedModelServerOptions, 'models' | 'serverVersion' | 'auth' | 'executorFactory'>>(
      { ...MODEL_SERVER_DEFAULTS, ...DEFAULT_REQUEST_LIMITS, maxRequestBytesInFlight: DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT },
      options,
    ),
    models: options.models,
    serverVersion: options.serverVersion ?? packageVersion,
    auth: options.auth ?? {},
    executorFactory: options.executorFactory,
  };
}
