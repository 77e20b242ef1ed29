import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { contextManagerFor, MODEL_SERVER_VERSION, RootSampler, useRootSampler } from '../libs/model-server/src/internal';
import type { TracingConfig } from './config/tracing-config';
import { ThreadSpanExporter } from './trace-export';

/** The running trace SDK. */
export interface Tracing {
  /** Sends the spans still queued and stops (at shutdown). */
  shutdown(): Promise<void>;
}

/**
 * The configured sampler, and the server's own root decisions for the samplers that decide new traces by trace id
 * alone (a ratio; always off is ratio 0), made ahead of the SDK by the same rule ({@link RootSampler}).
 */
function samplingOf(config: TracingConfig): { sampler: Sampler; roots?: RootSampler } {
  switch (config.sampler) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler() };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), roots: new RootSampler(0) };
    case 'traceidratio':
      return { sampler: new TraceIdRatioBasedSampler(config.ratio), roots: new RootSampler(config.ratio) };
    case 'parentbased_always_on':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) };
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), roots: new RootSampler(0) };
    case 'parentbased_traceidratio':
      return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) }), roots: new RootSampler(config.ratio) };
  }
}

/**
 * Starts the OpenTelemetry trace SDK before the server is made (the library checks once, when it is made,
 * whether an SDK is there): a tracer provider with the configured sampler, the OTLP/HTTP exporter (JSON or
 * protobuf, posting from a thread of its own) behind the SDK's batch span processor (a bounded queue: when the
 * collector is down, spans are dropped, requests never wait), W3C trace context propagation, the configured
 * context manager (`tracing.context`) and, for a ratio or always-off sampler, the server's own root decisions
 * ({@link RootSampler}).
 */
export function startTracing(config: TracingConfig): Tracing {
  const exporter = new ThreadSpanExporter({ protocol: config.protocol, url: config.endpoint }).start();
  // Precedence, lowest first: the SDK's own, the server's name and version, the config file's, OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: MODEL_SERVER_VERSION }))
    .merge(resourceFromAttributes(config.resourceAttributes))
    .merge(detectResources({ detectors: [envDetector] }));
  const { sampler, roots } = samplingOf(config);
  const provider = new NodeTracerProvider({
    resource,
    sampler,
    spanProcessors: [new BatchSpanProcessor(exporter)],
    ...(roots === undefined ? {} : { idGenerator: roots.idGenerator }),
  });
  provider.register({ contextManager: contextManagerFor(config.context) });
  useRootSampler(roots);
  return {
    shutdown: () => {
      useRootSampler(undefined);
      return provider.shutdown();
    },
  };
}
