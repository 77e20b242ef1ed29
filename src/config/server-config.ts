import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ModelServer,
  type ModelConfig,
  type ModelServerModuleOptions,
  type ModelVersionConfig,
  type ServerLogLevel,
} from 'nest-model-server';
import { parse as parseYaml } from 'yaml';
import { loadModelClass } from './model-loader';

/** Everything the CLI needs to start a server. */
export interface ServerConfig {
  port: number;
  host: string;
  grpcPort: number;
  /** Largest gRPC message, request or response, in bytes. */
  grpcMaxMessageBytes: number;
  /** Server processes sharing the ports (Node cluster); 1 runs in this process. */
  workers: number;
  /** Milliseconds in-flight requests get to finish after SIGTERM. */
  shutdownGraceMs: number;
  /** Least severe level logged. */
  logLevel: ServerLogLevel;
  /** `json`: structured lines (pino); `text`: Nest's console format, for development. */
  logFormat: 'json' | 'text';
  /** The configuration file it came from, if any. */
  configFile: string | undefined;
  options: ModelServerModuleOptions;
}

/** Settings given on the command line (they win over the environment, which wins over the file). */
export interface ConfigFlags {
  config?: string;
  port?: string;
  host?: string;
  grpcPort?: string;
  grpcMaxMessageBytes?: string;
  loadMode?: string;
  maxBodyBytes?: string;
  debug?: boolean;
  workers?: string;
  shutdownGraceMs?: string;
  logLevel?: string;
  logFormat?: string;
}

type FileModel = Omit<ModelConfig, 'model' | 'versions'> & {
  module?: string;
  class?: string;
  versions?: (Omit<ModelVersionConfig, 'model'> & { module?: string; class?: string })[];
  [key: string]: unknown;
};

interface ConfigFile {
  port?: number;
  host?: string;
  grpcPort?: number;
  grpcMaxMessageBytes?: number;
  workers?: number;
  shutdownGraceMs?: number;
  logLevel?: string;
  logFormat?: string;
  loadMode?: string;
  maxBodyBytes?: number;
  debug?: boolean;
  serverName?: string;
  models?: FileModel[];
  [key: string]: unknown;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`the config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`the config file ${path} must hold an object with a "models" list`);
  }
  const file = parsed as ConfigFile;
  if (file.models !== undefined && !Array.isArray(file.models)) throw new Error(`${path}: "models" must be a list`);
  return file;
}

function integer(value: string | number | undefined, what: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got '${value}'`);
  return n;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function oneOf<T extends string>(value: string | undefined, what: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${what} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/** A class standing in for a model whose module cannot be loaded: the model shows as failed, with the reason. */
function unloadable(reason: string): ModelConfig['model'] {
  return class UnloadableModel extends ModelServer {
    load(): void {
      throw new Error(reason);
    }
    predict(): never {
      throw new Error(reason);
    }
  };
}

function modelClass(
  base: string,
  module: string | undefined,
  className: string | undefined,
  where: string,
): Pick<ModelConfig, 'model' | 'modulePath' | 'className'> {
  if (module === undefined) throw new Error(`${where}: "module" (the file that exports the model class) is required`);
  try {
    const loaded = loadModelClass(resolve(base, module), className);
    return { model: loaded.model, modulePath: loaded.file, className: loaded.className };
  } catch (err) {
    return { model: unloadable(`cannot load ${module}: ${(err as Error).message}`) };
  }
}

/** Turns the file's model entries into module options: classes loaded, paths resolved against the file. */
function resolveModels(models: FileModel[], base: string): ModelConfig[] {
  return models.map((m, i) => {
    const where = `models[${i}]${typeof m?.name === 'string' ? ` (${m.name})` : ''}`;
    if (typeof m !== 'object' || m === null) throw new Error(`${where} must be an object`);
    const { module, class: className, versions, ...rest } = m;
    const config: ModelConfig = { ...(rest as Omit<ModelConfig, 'model'>), ...modelClass(base, module, className, where) };
    if (typeof m.modelPath === 'string') config.modelPath = resolve(base, m.modelPath);
    if (versions !== undefined) {
      if (!Array.isArray(versions)) throw new Error(`${where}: "versions" must be a list`);
      config.versions = versions.map((v) => {
        const { module: vModule, class: vClass, ...vRest } = v;
        const version: ModelVersionConfig = { ...vRest, version: String(v.version) };
        if (vModule !== undefined) version.model = modelClass(base, vModule, vClass ?? className, where).model;
        if (typeof v.modelPath === 'string') version.modelPath = resolve(base, v.modelPath);
        return version;
      });
    }
    return config;
  });
}

/**
 * Reads the configuration: the file (`--config` or `CONFIG`, JSON or YAML), then the environment
 * (`PORT`, `HOST`, `GRPC_PORT`, `GRPC_MAX_MESSAGE_BYTES`, `LOAD_MODE`, `MAX_BODY_BYTES`, `DEBUG`), then the flags, each overriding the last.
 */
export function loadServerConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, defaultConfig?: string): ServerConfig {
  const path = flags.config ?? env.CONFIG ?? defaultConfig;
  const configFile = path === undefined ? undefined : resolve(path);
  const file: ConfigFile = configFile === undefined ? {} : readConfigFile(configFile);
  const base = configFile === undefined ? process.cwd() : dirname(configFile);
  const { port, host, grpcPort, grpcMaxMessageBytes, workers, shutdownGraceMs, logLevel, logFormat, models, loadMode, maxBodyBytes, debug, ...moduleOptions } = file;
  const resolvedLoadMode = flags.loadMode ?? env.LOAD_MODE ?? loadMode;
  const debugOn = flags.debug ?? (env.DEBUG !== undefined ? /^(1|true|yes)$/i.test(env.DEBUG) : debug);
  const options: ModelServerModuleOptions = {
    ...(moduleOptions as Partial<ModelServerModuleOptions>),
    models: resolveModels(models ?? [], base),
  };
  if (resolvedLoadMode !== undefined) options.loadMode = resolvedLoadMode as ModelServerModuleOptions['loadMode'];
  const bodyLimit = flags.maxBodyBytes ?? env.MAX_BODY_BYTES ?? maxBodyBytes;
  if (bodyLimit !== undefined) options.maxBodyBytes = integer(bodyLimit, 'MAX_BODY_BYTES / maxBodyBytes', 0);
  if (debugOn !== undefined) options.debug = debugOn;
  if (env.MAX_IN_FLIGHT !== undefined) options.maxInFlight = integer(env.MAX_IN_FLIGHT, 'MAX_IN_FLIGHT', 0);
  if (env.REQUEST_TIMEOUT_MS !== undefined) options.requestTimeoutMs = integer(env.REQUEST_TIMEOUT_MS, 'REQUEST_TIMEOUT_MS', 0);
  if (env.AUTH_TOKENS !== undefined || env.AUTH_TOKENS_FILE !== undefined) {
    options.auth = {
      ...options.auth,
      ...(env.AUTH_TOKENS !== undefined ? { tokens: env.AUTH_TOKENS.split(',').map((t) => t.trim()).filter((t) => t !== '') } : {}),
      ...(env.AUTH_TOKENS_FILE !== undefined ? { tokensFile: resolve(env.AUTH_TOKENS_FILE) } : {}),
    };
  }
  return {
    port: integer(flags.port ?? env.PORT ?? port, 'PORT / --port', 8080),
    host: flags.host ?? env.HOST ?? host ?? '0.0.0.0',
    grpcPort: integer(flags.grpcPort ?? env.GRPC_PORT ?? grpcPort, 'GRPC_PORT / --grpc-port', 8081),
    grpcMaxMessageBytes: integer(
      flags.grpcMaxMessageBytes ?? env.GRPC_MAX_MESSAGE_BYTES ?? grpcMaxMessageBytes,
      'GRPC_MAX_MESSAGE_BYTES / --grpc-max-message-bytes',
      64 * 1024 * 1024,
    ),
    workers: Math.max(1, integer(flags.workers ?? env.WORKERS ?? workers, 'WORKERS / --workers', 1)),
    shutdownGraceMs: integer(flags.shutdownGraceMs ?? env.SHUTDOWN_GRACE_MS ?? shutdownGraceMs, 'SHUTDOWN_GRACE_MS / --shutdown-grace-ms', 30000),
    logLevel: oneOf(flags.logLevel ?? env.LOG_LEVEL ?? logLevel, 'LOG_LEVEL / --log-level', LOG_LEVELS, 'info'),
    logFormat: oneOf(flags.logFormat ?? env.LOG_FORMAT ?? logFormat, 'LOG_FORMAT / --log-format', ['json', 'text'] as const, 'json'),
    configFile,
    options,
  };
}
