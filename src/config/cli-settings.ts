import {
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BODY_BYTES,
  GRPC_DEFAULTS,
  LOG_FORMATS,
  MODEL_SERVER_DEFAULTS,
  MONITORING_DEFAULTS,
  SERVER_LOG_LEVELS,
} from '../../libs/model-server/src/internal';
import { GC_SETTING } from '../gc-threads';

/** One setting of the command line: its flag, its environment variable, its default and its help line. */
interface CliSetting {
  /** `--name` as parseArgs takes it (a boolean flag takes no value). */
  flag: string;
  /** False for a setting the config file cannot hold (where the models come from). */
  inFile?: false;
  /** The config file's key, when it is not the setting's own name (a key of a section). */
  fileKey?: string;
  /** The same flag as KServe's model servers spell it (`--http_port`), accepted too. */
  alias?: string;
  /** The value's placeholder in the help text; none for a boolean flag. */
  arg?: string;
  env: string;
  /** The environment value that turns a boolean setting to what its flag means (`DEBUG=1`, `METRICS=0`). */
  envValue?: string;
  help: string;
  /** The default, when the CLI applies one (the library's, where the library has it). */
  default?: number | string;
  /** How the help text shows the default, when not as `default`. */
  shown?: string;
}

const MiB = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** `a, b or c`: a list of names as the help text writes it. */
const either = (names: readonly string[]): string => `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;

/** Where KServe puts an InferenceService's model storage in the container (its storage initializer's target). */
export const KSERVE_MODEL_DIR = '/mnt/models';

/** Where SageMaker puts a model's artifacts (the model.tar.gz, extracted) in the container. */
export const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

/**
 * Every setting the CLI reads from a flag and the environment (and the config file under the same key): the one
 * place their names and defaults are written. The flags, the help text and {@link loadServerConfig} read it.
 */
export const CLI_SETTINGS = {
  config: {
    flag: 'config',
    arg: 'FILE',
    env: 'CONFIG',
    inFile: false,
    help: 'models and settings, JSON or YAML',
    shown: `the model folder ${KSERVE_MODEL_DIR} or ${SAGEMAKER_MODEL_DIR} when one exists, else the bundled samples`,
  },
  modelDir: {
    flag: 'model_dir',
    arg: 'DIR',
    env: 'MODEL_DIR',
    inFile: false,
    help: 'a model repository (its models.yaml) or one model folder (model.ts / model.js, model.yaml); in place of --config',
    shown: `${KSERVE_MODEL_DIR}, else ${SAGEMAKER_MODEL_DIR}, when it exists`,
  },
  modelName: {
    flag: 'model_name',
    arg: 'NAME',
    env: 'MODEL_NAME',
    inFile: false,
    help: 'the name a single model folder is served under (KServe passes the InferenceService\'s)',
    shown: "model.yaml's name, else the folder's",
  },
  port: { flag: 'port', alias: 'http_port', arg: 'N', env: 'PORT', help: 'HTTP port', default: 8080 },
  host: { flag: 'host', arg: 'H', env: 'HOST', help: 'HTTP and gRPC host', default: GRPC_DEFAULTS.host },
  grpcPort: { flag: 'grpc-port', alias: 'grpc_port', arg: 'N', env: 'GRPC_PORT', help: 'gRPC port', default: GRPC_DEFAULTS.port },
  grpcMaxMessageBytes: {
    flag: 'grpc-max-message-bytes',
    arg: 'N',
    env: 'GRPC_MAX_MESSAGE_BYTES',
    help: 'largest gRPC request or response message in bytes',
    default: GRPC_DEFAULTS.maxReceiveMessageBytes,
    shown: MiB(GRPC_DEFAULTS.maxReceiveMessageBytes),
  },
  loadMode: { flag: 'load-mode', arg: 'MODE', env: 'LOAD_MODE', help: 'blocking (load before listening) or background', shown: MODEL_SERVER_DEFAULTS.loadMode },
  maxBodyBytes: { flag: 'max-body-bytes', arg: 'N', env: 'MAX_BODY_BYTES', help: 'request body limit in bytes', shown: MiB(DEFAULT_MAX_BODY_BYTES) },
  debug: { flag: 'debug', env: 'DEBUG', envValue: '1', help: 'stack traces in 500 answers' },
  workers: { flag: 'workers', arg: 'N', env: 'WORKERS', help: 'N server processes sharing the ports', default: 1 },
  gc: {
    flag: GC_SETTING.flag,
    arg: 'MODE',
    env: GC_SETTING.env,
    inFile: false,
    help: "V8's garbage collector: single-threaded, concurrent, or auto (single-threaded when the process can use one CPU only)",
    default: 'auto',
  },
  shutdownGraceMs: {
    flag: 'shutdown-grace-ms',
    arg: 'N',
    env: 'SHUTDOWN_GRACE_MS',
    help: 'time in-flight requests get after SIGTERM, HTTP and gRPC',
    default: GRPC_DEFAULTS.shutdownGraceMs,
  },
  shutdownDelayMs: {
    flag: 'shutdown-delay-ms',
    arg: 'N',
    env: 'SHUTDOWN_DELAY_MS',
    help: 'after SIGTERM: not ready at once, still serving this long (endpoints are removed), then drain',
    default: 5000,
  },
  logLevel: { flag: 'log-level', arg: 'LEVEL', env: 'LOG_LEVEL', help: either(SERVER_LOG_LEVELS), default: DEFAULT_LOG_LEVEL },
  logFormat: { flag: 'log-format', arg: 'FORMAT', env: 'LOG_FORMAT', help: 'json (structured) or text', default: 'json' as const },
  logStream: {
    flag: 'log-stream',
    arg: 'URL',
    env: 'LOG_STREAM',
    help: 'request records to stdout, file:///path.jsonl, redis://host:port/stream-key or http(s)://url',
    shown: 'none',
  },
  logStreamFormat: {
    flag: 'log-stream-format',
    arg: 'F',
    env: 'LOG_STREAM_FORMAT',
    help: either(LOG_FORMATS),
    shown: `${MONITORING_DEFAULTS.httpFormat} for http, else ${MONITORING_DEFAULTS.format}`,
  },
  logStreamSample: {
    flag: 'log-stream-sample',
    arg: 'N',
    env: 'LOG_STREAM_SAMPLE',
    help: 'record every Nth successful request of each model; failures always',
    default: MONITORING_DEFAULTS.sample,
  },
  logStreamBatch: {
    flag: 'log-stream-batch',
    arg: 'N',
    env: 'LOG_STREAM_BATCH',
    help: `records sent per batch, at most ${MONITORING_DEFAULTS.batchIntervalMs} ms apart`,
    shown: `${MONITORING_DEFAULTS.lineBatchSize} to a file or stdout, else ${MONITORING_DEFAULTS.batchSize}`,
  },
  metrics: { flag: 'no-metrics', env: 'METRICS', envValue: '0', help: `no Prometheus metrics at GET ${MONITORING_DEFAULTS.metricsPath}` },
  tracesExporter: {
    flag: 'traces-exporter',
    fileKey: 'tracing.exporter',
    arg: 'E',
    env: 'OTEL_TRACES_EXPORTER',
    help: 'otlp: OpenTelemetry traces over OTLP/HTTP (the standard OTEL_* variables apply), or none',
    shown: 'none',
  },
  tracingContext: {
    flag: 'tracing-context',
    fileKey: 'tracing.context',
    arg: 'C',
    env: 'TRACING_CONTEXT',
    help: 'how the active span follows async code: promise, async-local-storage or auto',
    shown: 'auto',
  },
} satisfies Record<string, CliSetting>;

type Settings = typeof CLI_SETTINGS;

/** Settings given on the command line (they win over the environment, which wins over the file). */
export type ConfigFlags = { [K in keyof Settings]?: Settings[K] extends { arg: string } ? string : boolean };

/** `PORT / --port`: how an error message names a setting. */
export function settingName(key: keyof Settings): string {
  const s: CliSetting = CLI_SETTINGS[key];
  return `${s.env} / --${s.flag}`;
}

/** parseArgs' option table. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(
    Object.values(CLI_SETTINGS).flatMap((s: CliSetting) => {
      const type = s.arg === undefined ? ('boolean' as const) : ('string' as const);
      return s.alias === undefined ? [[s.flag, { type }]] : [[s.flag, { type }], [s.alias, { type }]];
    }),
  );
}

/** The flags parseArgs read, by setting (`--no-metrics` is `metrics: false`). */
export function flagsOf(values: Record<string, string | boolean | undefined>): ConfigFlags {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [key, s] of Object.entries(CLI_SETTINGS) as [keyof Settings, CliSetting][]) {
    const value = values[s.flag] ?? (s.alias === undefined ? undefined : values[s.alias]);
    flags[key] = key === 'metrics' ? (value === true ? false : undefined) : value;
  }
  return flags as ConfigFlags;
}

/** The help text's option lines. */
export function optionsHelp(): string {
  return Object.values(CLI_SETTINGS)
    .map((s: CliSetting) => {
      const arg = s.arg === undefined ? '' : ` ${s.arg}`;
      const name = `--${s.flag}${arg}${s.alias === undefined ? '' : `, --${s.alias}${arg}`}`;
      const shown = s.shown ?? (s.default === undefined ? undefined : String(s.default));
      const text = `${s.help} (env ${s.env}${s.envValue === undefined ? '' : `=${s.envValue}`}${shown === undefined ? '' : `; default ${shown}`})`;
      return name.length < 22 ? `  ${name.padEnd(22)}${text}` : `  ${name}\n  ${' '.repeat(22)}${text}`;
    })
    .join('\n');
}
