import process from 'node:process';
import type { TracingContext } from '../../libs/model-server/src/internal';

/** The trace protocols of the OTLP/HTTP exporter the CLI can start. */
export const TRACE_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/**
 * How the active context follows async code: `promise` carries it along promises only (V8's promise hooks),
 * `async-local-storage` with Node's `AsyncLocalStorage` (also into timers and ticks), `auto` chooses
 * `async-local-storage` where Node keeps it without async hooks, else `promise` (docs/observability.md).
 */
export const TRACING_CONTEXTS = ['auto', 'promise', 'async-local-storage'] as const satisfies readonly ('auto' | TracingContext)[];

/** The samplers `OTEL_TRACES_SAMPLER` may name. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/**
 * How the CLI traces (OpenTelemetry): spans of every request, sent over OTLP/HTTP. Off unless
 * `OTEL_TRACES_EXPORTER=otlp` or the config file's `tracing.exporter: otlp`.
 */
export interface TracingConfig {
  /**
   * The traces endpoint, when the config file names one and the environment does not
   * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, read by the exporter itself).
   */
  endpoint: string | undefined;
  protocol: (typeof TRACE_PROTOCOLS)[number];
  /** `service.name` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` name it. */
  serviceName: string;
  sampler: (typeof TRACE_SAMPLERS)[number];
  /** The ratio of the `traceidratio` samplers, 0 to 1. */
  ratio: number;
  /** Resource attributes from the config file (`OTEL_RESOURCE_ATTRIBUTES` wins over them). */
  resourceAttributes: Record<string, string>;
  /** The context manager the SDK is registered with (`auto` resolved). */
  context: TracingContext;
}

/** The config file's `tracing` section. */
interface TracingSection {
  exporter?: string;
  endpoint?: string;
  protocol?: string;
  serviceName?: string;
  sampler?: string;
  samplerArg?: string | number;
  resourceAttributes?: Record<string, string>;
  context?: string;
}

const SECTION_KEYS = new Set(['exporter', 'endpoint', 'protocol', 'serviceName', 'sampler', 'samplerArg', 'resourceAttributes', 'context']);

/**
 * True when this Node keeps `AsyncLocalStorage` in async context frames instead of async hooks: Node 24 on
 * (unless `--no-async-context-frame`), Node 22 with `--experimental-async-context-frame`.
 */
export function asyncContextFrames(version: string = process.versions.node, flags: readonly string[] = nodeFlags()): boolean {
  const major = Number(version.split('.')[0]);
  if (major >= 24) return !flags.includes('--no-async-context-frame');
  return major >= 22 && flags.includes('--experimental-async-context-frame');
}

/** The flags Node was started with: its command line's and `NODE_OPTIONS`'. */
function nodeFlags(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)];
}

function set(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The tracing settings: the config file's `tracing` section, then the standard OpenTelemetry variables
 * (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_SERVICE_NAME`,
 * `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`) and the server's own `TRACING_CONTEXT`, then the command line's
 * flags; false when no exporter is asked for. `frames`: whether this Node keeps `AsyncLocalStorage` without async
 * hooks (what `auto` chooses by). A value it cannot use is an error at startup, naming the setting.
 */
export function tracingConfig(
  env: NodeJS.ProcessEnv,
  section: unknown,
  exporterFlag?: string,
  contextFlag?: string,
  frames: boolean = asyncContextFrames(),
): TracingConfig | false {
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) {
    throw new Error('"tracing" in the config file must be an object of tracing settings (exporter, endpoint, protocol, serviceName, sampler, samplerArg, resourceAttributes, context)');
  }
  const file = (section ?? {}) as TracingSection;
  const unknown = Object.keys(file).filter((k) => !SECTION_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`"tracing" in the config file has unknown keys: ${unknown.join(', ')}`);
  const exporter = (set(exporterFlag) ?? set(env.OTEL_TRACES_EXPORTER) ?? file.exporter ?? 'none').toLowerCase();
  if (exporter === 'none') return false;
  if (exporter !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER / --traces-exporter / tracing.exporter must be otlp or none, got '${exporter}'`);
  const protocol = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? file.protocol ?? 'http/protobuf';
  if (!(TRACE_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new Error(`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / tracing.protocol must be ${TRACE_PROTOCOLS.join(' or ')} (OTLP over HTTP), got '${protocol}'`);
  }
  const sampler = (set(env.OTEL_TRACES_SAMPLER) ?? file.sampler ?? 'parentbased_always_on').toLowerCase();
  if (!(TRACE_SAMPLERS as readonly string[]).includes(sampler)) {
    throw new Error(`OTEL_TRACES_SAMPLER / tracing.sampler must be one of ${TRACE_SAMPLERS.join(', ')}, got '${sampler}'`);
  }
  const arg = set(env.OTEL_TRACES_SAMPLER_ARG) ?? (file.samplerArg === undefined ? undefined : String(file.samplerArg));
  const ratio = arg === undefined ? 1 : Number(arg);
  if (sampler.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG / tracing.samplerArg must be a ratio from 0 to 1 for ${sampler}, got '${arg}'`);
  }
  const fromEnv = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (file.endpoint !== undefined && typeof file.endpoint !== 'string') throw new Error('tracing.endpoint must be a URL');
  const resourceAttributes = file.resourceAttributes ?? {};
  if (typeof resourceAttributes !== 'object' || resourceAttributes === null || Object.values(resourceAttributes).some((v) => typeof v !== 'string')) {
    throw new Error('tracing.resourceAttributes must map names to strings');
  }
  const context = (set(contextFlag) ?? set(env.TRACING_CONTEXT) ?? (file.context === undefined ? undefined : String(file.context)) ?? 'auto').toLowerCase();
  if (!(TRACING_CONTEXTS as readonly string[]).includes(context)) {
    throw new Error(`TRACING_CONTEXT / --tracing-context / tracing.context must be one of ${TRACING_CONTEXTS.join(', ')}, got '${context}'`);
  }
  return {
    endpoint: fromEnv === undefined ? file.endpoint : undefined,
    protocol: protocol as TracingConfig['protocol'],
    serviceName: file.serviceName ?? 'nest-model-server',
    sampler: sampler as TracingConfig['sampler'],
    ratio,
    resourceAttributes,
    context: context === 'auto' ? (frames ? 'async-local-storage' : 'promise') : (context as TracingConfig['context']),
  };
}
