import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelConfig, ModelServerModuleOptions, HttpTimeouts, ModelServerAdapterOptions } from 'nest-model-server';
import type { ModelServerMonitoringOptions } from 'nest-model-server/monitoring';
import type { SageMakerModuleOptions } from 'nest-model-server/sagemaker';
import { CLI_SETTINGS, settingName, type ConfigFlags } from './cli-settings';
import { tracingConfig, type TracingConfig } from './tracing-config';
import {
  DEFAULT_HTTP_TIMEOUTS,
  LOG_FORMATS,
  MONITORING_DEFAULTS,
  SERVER_LOG_LEVELS,
  configFileModels,
  isModelFolder,
  modelFolderEntry,
  readConfigFile,
  type ServerLogLevel,
} from '../../libs/model-server/src/internal';

/** Everything the CLI needs to start a server. */
export interface ServerConfig {
  port: number;
  host: string;
  grpcPort: number;
  /** Largest gRPC message, request or response, in bytes. */
  grpcMaxMessageBytes: number;
  /** Server processes sharing the ports (Node cluster); 1 runs in this process. */
  workers: number;
  /** Milliseconds in-flight requests get to finish after SIGTERM (after the delay). */
  shutdownGraceMs: number;
  /** Milliseconds after SIGTERM during which readiness is off but requests are still served. */
  shutdownDelayMs: number;
  /** Least severe level logged. */
  logLevel: ServerLogLevel;
  /** `json`: structured lines (pino); `text`: Nest's console format, for development. */
  logFormat: 'json' | 'text';
  /** The configuration file it came from, if any. */
  configFile: string | undefined;
  options: ModelServerModuleOptions;
  /** Request records (`logStream`) and Prometheus metrics. */
  monitoring: ModelServerMonitoringOptions;
  /** The SageMaker serving contract (`/ping`, `/invocations`, `/execution-parameters`); false turns it off. */
  sagemaker: SageMakerModuleOptions | false;
  /** The HTTP adapter's settings: timeouts and the fast lane (unset ones take the library's defaults). */
  http: Omit<ModelServerAdapterOptions, 'bodyLimit'>;
  /** OpenTelemetry traces (`OTEL_TRACES_EXPORTER=otlp`), or false. */
  tracing: TracingConfig | false;
}

export type { ConfigFlags } from './cli-settings';

interface ConfigFile {
  port?: number;
  host?: string;
  grpcPort?: number;
  grpcMaxMessageBytes?: number;
  workers?: number;
  shutdownGraceMs?: number;
  shutdownDelayMs?: number;
  logLevel?: string;
  logFormat?: string;
  loadMode?: string;
  maxBodyBytes?: number;
  debug?: boolean;
  serverName?: string;
  /** The model entries, read by the library's config-file loader (`configFileModels`). */
  models?: unknown[];
  /** Where request records go (`LOG_STREAM`). */
  logStream?: string;
  /** Every other monitoring setting (format, sampling, batching, buffer, sinks, metrics). */
  monitoring?: ModelServerMonitoringOptions;
  /** SageMaker settings (`defaultModel`, ...), or false for no SageMaker routes. */
  sagemaker?: SageMakerModuleOptions | false;
  receiveTimeoutMs?: number;
  headersTimeoutMs?: number;
  sendTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Serve plain JSON infer requests before Fastify's request lifecycle (`FAST_LANE`). */
  fastLane?: boolean | 'always';
  /** OpenTelemetry traces: `exporter: otlp` and the standard settings (the OTEL_* variables win). */
  tracing?: unknown;
  [key: string]: unknown;
}

function integer(value: string | number | undefined, what: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got '${value}'`);
  return n;
}

function oneOf<T extends string>(value: string | undefined, what: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${what} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/**
 * Reads the configuration: the file (`--config` or `CONFIG`, JSON or YAML; or a model folder, `--model_dir` or
 * `MODEL_DIR`, else `defaultModelDir` when it exists: its `models.yaml`, or the folder as one model), then the environment
 * (`PORT`, `HOST`, `GRPC_PORT`, `GRPC_MAX_MESSAGE_BYTES`, `LOAD_MODE`, `MAX_BODY_BYTES`, `DEBUG`), then the flags, each overriding the last.
 * `SAGEMAKER_BIND_TO_PORT`, when set, is the HTTP port whatever else says.
 */
export function loadServerConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, defaultConfig?: string, defaultModelDir?: string): ServerConfig {
  const source = modelSource(flags, env, defaultConfig, defaultModelDir);
  const configFile = source.configFile;
  const file: ConfigFile = configFile === undefined ? {} : (readConfigFile(configFile) as ConfigFile);
  const { port, host, grpcPort, grpcMaxMessageBytes, workers, shutdownGraceMs, shutdownDelayMs, logLevel, logFormat, models, loadMode, maxBodyBytes, debug, logStream, monitoring, sagemaker, receiveTimeoutMs, headersTimeoutMs, sendTimeoutMs, keepAliveTimeoutMs, fastLane, tracing, ...moduleOptions } = file;
  // In a SageMaker container the platform names the port (SAGEMAKER_BIND_TO_PORT): it wins over every other setting.
  const sagemakerPort = env.SAGEMAKER_BIND_TO_PORT !== undefined && env.SAGEMAKER_BIND_TO_PORT !== '' ? env.SAGEMAKER_BIND_TO_PORT : undefined;
  const resolvedLoadMode = flags.loadMode ?? env.LOAD_MODE ?? loadMode;
  const debugOn = flags.debug ?? (env.DEBUG !== undefined ? /^(1|true|yes)$/i.test(env.DEBUG) : debug);
  const options: ModelServerModuleOptions = {
    ...(moduleOptions as Partial<ModelServerModuleOptions>),
    // The file's entries become model configs in the library, which applications reading the same file share.
    models: source.singleModel !== undefined ? [source.singleModel] : configFile === undefined ? [] : configFileModels(models ?? [], configFile),
  };
  if (resolvedLoadMode !== undefined) options.loadMode = resolvedLoadMode as ModelServerModuleOptions['loadMode'];
  const bodyLimit = flags.maxBodyBytes ?? env.MAX_BODY_BYTES ?? maxBodyBytes;
  if (bodyLimit !== undefined) options.maxBodyBytes = integer(bodyLimit, settingName('maxBodyBytes'), 0);
  if (debugOn !== undefined) options.debug = debugOn;
  if (env.MAX_IN_FLIGHT !== undefined) options.maxInFlight = integer(env.MAX_IN_FLIGHT, 'MAX_IN_FLIGHT', 0);
  if (env.MODEL_CONTROL !== undefined && env.MODEL_CONTROL !== '') options.modelControl = /^(1|true|yes|on)$/i.test(env.MODEL_CONTROL);
  if (env.REQUEST_TIMEOUT_MS !== undefined) options.requestTimeoutMs = integer(env.REQUEST_TIMEOUT_MS, 'REQUEST_TIMEOUT_MS', 0);
  const sagemakerOptions = sageMakerConfig(env, sagemaker);
  const workerCount = Math.max(1, integer(flags.workers ?? env.WORKERS ?? workers, settingName('workers'), CLI_SETTINGS.workers.default));
  if (sagemakerOptions !== false && sagemakerOptions.multiModel !== undefined && sagemakerOptions.multiModel !== false && workerCount > 1) {
    throw new Error(`SageMaker's multi-model mode keeps the models it loads in one process: run it with one worker, not ${workerCount}`);
  }
  if (env.AUTH_TOKENS !== undefined || env.AUTH_TOKENS_FILE !== undefined) {
    options.auth = {
      ...options.auth,
      ...(env.AUTH_TOKENS !== undefined ? { tokens: env.AUTH_TOKENS.split(',').map((t) => t.trim()).filter((t) => t !== '') } : {}),
      ...(env.AUTH_TOKENS_FILE !== undefined ? { tokensFile: resolve(env.AUTH_TOKENS_FILE) } : {}),
    };
  }
  const httpPort = integer(sagemakerPort ?? flags.port ?? env.PORT ?? port, sagemakerPort !== undefined ? 'SAGEMAKER_BIND_TO_PORT' : settingName('port'), CLI_SETTINGS.port.default);
  const grpcPortNumber = integer(flags.grpcPort ?? env.GRPC_PORT ?? grpcPort, settingName('grpcPort'), CLI_SETTINGS.grpcPort.default);
  if (httpPort === grpcPortNumber && httpPort !== 0) {
    // Knative sets PORT to the one port a service declares: an h2c (gRPC) port makes it the gRPC port too.
    throw new Error(
      `the HTTP port (${sagemakerPort !== undefined ? 'SAGEMAKER_BIND_TO_PORT' : settingName('port')}) and the gRPC port (${settingName('grpcPort')}) ` +
        `are both ${httpPort}: each protocol needs its own port (KServe: --http_port=8080 --grpc_port=8081)`,
    );
  }
  return {
    port: httpPort,
    host: flags.host ?? env.HOST ?? host ?? CLI_SETTINGS.host.default,
    grpcPort: grpcPortNumber,
    grpcMaxMessageBytes: integer(
      flags.grpcMaxMessageBytes ?? env.GRPC_MAX_MESSAGE_BYTES ?? grpcMaxMessageBytes,
      settingName('grpcMaxMessageBytes'),
      CLI_SETTINGS.grpcMaxMessageBytes.default,
    ),
    workers: workerCount,
    shutdownGraceMs: integer(flags.shutdownGraceMs ?? env.SHUTDOWN_GRACE_MS ?? shutdownGraceMs, settingName('shutdownGraceMs'), CLI_SETTINGS.shutdownGraceMs.default),
    shutdownDelayMs: integer(flags.shutdownDelayMs ?? env.SHUTDOWN_DELAY_MS ?? shutdownDelayMs, settingName('shutdownDelayMs'), CLI_SETTINGS.shutdownDelayMs.default),
    logLevel: oneOf(flags.logLevel ?? env.LOG_LEVEL ?? logLevel, settingName('logLevel'), SERVER_LOG_LEVELS, CLI_SETTINGS.logLevel.default),
    logFormat: oneOf(flags.logFormat ?? env.LOG_FORMAT ?? logFormat, settingName('logFormat'), ['json', 'text'] as const, CLI_SETTINGS.logFormat.default),
    configFile,
    options,
    monitoring: monitoringConfig(flags, env, logStream, monitoring),
    sagemaker: sagemakerOptions,
    http: httpAdapterOptions(env, { receiveTimeoutMs, headersTimeoutMs, sendTimeoutMs, keepAliveTimeoutMs }, fastLane),
    tracing: tracingConfig(env, tracing, flags.tracesExporter, flags.tracingContext),
  };
}

/** A model repository's config file, looked up in this order in a model folder (`--model_dir`). */
const REPOSITORY_FILES = ['models.yaml', 'models.yml', 'models.json'];

/** Where the models come from: a config file, or one model folder served alone. */
interface ModelSource {
  configFile?: string;
  singleModel?: ModelConfig;
}

/** The value of the first of two settings given at one level (flags, or environment); both is an error. */
function oneOfTwo(config: string | undefined, dir: string | undefined, level: string): { config?: string; dir?: string } | undefined {
  const c = config === '' ? undefined : config;
  const d = dir === '' ? undefined : dir;
  if (c !== undefined && d !== undefined) throw new Error(`${level}: give a config file (${settingName('config')}) or a model folder (${settingName('modelDir')}), not both`);
  if (c !== undefined) return { config: c };
  if (d !== undefined) return { dir: d };
  return undefined;
}

/**
 * Where the models come from: `--config` or `--model_dir` (flags first, then `CONFIG` or `MODEL_DIR`), else
 * `defaultModelDir` when it exists (the CLI passes KServe's `/mnt/models` or SageMaker's `/opt/ml/model`), else the
 * bundled samples. A model folder holding `models.yaml` is a
 * model repository served by that file; any other is one model (KServe's single-model storage), served under
 * `--model_name` / `MODEL_NAME`.
 */
function modelSource(flags: ConfigFlags, env: NodeJS.ProcessEnv, defaultConfig: string | undefined, defaultModelDir: string | undefined): ModelSource {
  const given =
    oneOfTwo(flags.config, flags.modelDir, 'flags') ??
    oneOfTwo(env.CONFIG, env.MODEL_DIR, 'environment') ??
    (defaultModelDir !== undefined && existsSync(defaultModelDir) ? { dir: defaultModelDir } : { config: defaultConfig });
  if (given.dir === undefined) return { configFile: given.config === undefined ? undefined : resolve(given.config) };
  const dir = resolve(given.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`the model folder ${dir} (${settingName('modelDir')}) does not exist or is not a folder`);
  const repository = REPOSITORY_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (repository !== undefined) return { configFile: repository };
  if (!isModelFolder(dir)) {
    throw new Error(
      `the model folder ${dir} holds neither a models.yaml (a model repository) nor a model.ts / model.js (one model); ` +
        `it holds: ${readdirSync(dir).slice(0, 20).join(', ') || 'nothing'}`,
    );
  }
  const name = flags.modelName ?? (env.MODEL_NAME === '' ? undefined : env.MODEL_NAME);
  return { singleModel: modelFolderEntry(dir, name) };
}

/**
 * The HTTP adapter's settings: the file's timeout keys, then `RECEIVE_TIMEOUT_MS`, `HEADERS_TIMEOUT_MS`,
 * `SEND_TIMEOUT_MS`, `KEEP_ALIVE_TIMEOUT_MS`; the file's `fastLane`, then `FAST_LANE`.
 */
function httpAdapterOptions(env: NodeJS.ProcessEnv, file: HttpTimeouts, fastLane: unknown): ServerConfig['http'] {
  const out: ServerConfig['http'] = { ...DEFAULT_HTTP_TIMEOUTS };
  const fromEnv = env.FAST_LANE;
  const lane = fromEnv !== undefined && fromEnv !== '' ? (/^always$/i.test(fromEnv) ? 'always' : !/^(0|false|no|off)$/i.test(fromEnv)) : fastLane;
  if (lane !== undefined) {
    if (typeof lane !== 'boolean' && lane !== 'always') throw new Error(`fastLane must be true, false or 'always', got '${String(lane)}'`);
    out.fastLane = lane;
  }
  const keys: [keyof HttpTimeouts, string][] = [
    ['receiveTimeoutMs', 'RECEIVE_TIMEOUT_MS'],
    ['headersTimeoutMs', 'HEADERS_TIMEOUT_MS'],
    ['sendTimeoutMs', 'SEND_TIMEOUT_MS'],
    ['keepAliveTimeoutMs', 'KEEP_ALIVE_TIMEOUT_MS'],
  ];
  for (const [key, name] of keys) {
    const value = env[name] !== undefined && env[name] !== '' ? env[name] : file[key];
    if (value !== undefined) out[key] = integer(value, `${name} / ${key}`, 0);
  }
  return out;
}

/**
 * The SageMaker settings: the file's `sagemaker` section (false: no SageMaker routes), then the toolkit's
 * `SAGEMAKER_MODEL_SERVER_TIMEOUT` (seconds) and `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`. The library checks the values.
 */
function sageMakerConfig(env: NodeJS.ProcessEnv, section: unknown): SageMakerModuleOptions | false {
  if (section === false) return false;
  if (section !== undefined && section !== null && (typeof section !== 'object' || Array.isArray(section))) {
    throw new Error('"sagemaker" in the config file must be an object of SageMaker settings, or false');
  }
  const options: SageMakerModuleOptions = { ...(section as SageMakerModuleOptions | null | undefined) };
  const timeout = env.SAGEMAKER_MODEL_SERVER_TIMEOUT;
  if (timeout !== undefined && timeout !== '') options.invocationTimeoutMs = integer(timeout, 'SAGEMAKER_MODEL_SERVER_TIMEOUT (seconds)', 60) * 1000;
  const accept = env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT;
  if (accept !== undefined && accept !== '') options.defaultAccept = accept;
  options.multiModel = multiModelConfig(env, options.multiModel);
  return options;
}

/**
 * The multi-model mode: the file's `sagemaker.multiModel` (true, or its settings), then `SAGEMAKER_MULTI_MODEL`
 * (true / false, as the toolkit's containers set it) and the budget, `SAGEMAKER_MULTI_MODEL_MAX_MODELS` and
 * `SAGEMAKER_MULTI_MODEL_MAX_MEMORY_MB` (resident memory).
 */
function multiModelConfig(env: NodeJS.ProcessEnv, section: SageMakerModuleOptions['multiModel']): SageMakerModuleOptions['multiModel'] {
  const flag = env.SAGEMAKER_MULTI_MODEL;
  let mode = section;
  if (flag !== undefined && flag !== '') mode = /^(1|true|yes|on)$/i.test(flag) ? (typeof section === 'object' ? section : true) : false;
  if (mode === undefined || mode === false) return mode;
  const settings = typeof mode === 'object' && mode !== null ? { ...mode } : {};
  const maxModels = env.SAGEMAKER_MULTI_MODEL_MAX_MODELS;
  if (maxModels !== undefined && maxModels !== '') settings.maxModels = integer(maxModels, 'SAGEMAKER_MULTI_MODEL_MAX_MODELS', 0);
  const maxMemory = env.SAGEMAKER_MULTI_MODEL_MAX_MEMORY_MB;
  if (maxMemory !== undefined && maxMemory !== '') settings.maxResidentBytes = integer(maxMemory, 'SAGEMAKER_MULTI_MODEL_MAX_MEMORY_MB', 0) * 1024 * 1024;
  return mode === true && Object.keys(settings).length === 0 ? true : settings;
}

/**
 * The monitoring settings: the file's `monitoring` section and `logStream`, then `LOG_STREAM`, `LOG_STREAM_FORMAT`,
 * `LOG_STREAM_SAMPLE`, `LOG_STREAM_BATCH` and `METRICS`, then the flags. The library checks the values.
 */
function monitoringConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, logStream: unknown, section: unknown): ModelServerMonitoringOptions {
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) {
    throw new Error('"monitoring" in the config file must be an object of monitoring settings');
  }
  const monitoring: ModelServerMonitoringOptions = { ...(section as ModelServerMonitoringOptions | undefined) };
  const stream = flags.logStream ?? env.LOG_STREAM ?? logStream;
  if (stream !== undefined) monitoring.logStream = stream as string;
  const format = flags.logStreamFormat ?? env.LOG_STREAM_FORMAT;
  if (format !== undefined && format !== '') {
    monitoring.format = oneOf(format, settingName('logStreamFormat'), LOG_FORMATS, MONITORING_DEFAULTS.format);
  }
  const sample = flags.logStreamSample ?? env.LOG_STREAM_SAMPLE;
  if (sample !== undefined && sample !== '') monitoring.sample = integer(sample, settingName('logStreamSample'), CLI_SETTINGS.logStreamSample.default);
  const batch = flags.logStreamBatch ?? env.LOG_STREAM_BATCH;
  if (batch !== undefined && batch !== '') monitoring.batchSize = integer(batch, settingName('logStreamBatch'), MONITORING_DEFAULTS.batchSize);
  const metrics = flags.metrics ?? (env.METRICS !== undefined && env.METRICS !== '' ? !/^(0|false|no|off)$/i.test(env.METRICS) : undefined);
  if (metrics !== undefined) monitoring.metrics = metrics;
  return monitoring;
}
