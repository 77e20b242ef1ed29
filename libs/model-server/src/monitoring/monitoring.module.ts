import cluster from 'node:cluster';
import { Logger, Module } from '@nestjs/common';
import { BASE_HOOKS } from '../model/model-server';
import { RESOLVED_OPTIONS } from '../options/tokens';
import type { ResolvedModelServerOptions } from '../options/model-server-options.interface';
import { ModelRepository } from '../repository/model-repository';
import { CloudEventsFormatter } from './cloud-events.formatter';
import { EventSampler } from './event.sampler';
import { InferenceEventStream } from '../inference/inference-event-stream';
import { MetricsRegistrar } from './metrics/metrics.registrar';
import { PrometheusMetrics } from './metrics/prometheus-metrics.service';
import { MlrunRecordFormatter, type LoggedResultsLookup } from './mlrun-record.formatter';
import { MONITORING_OPTIONS } from './monitoring.constants';
import { MonitoringLifecycle } from './monitoring.lifecycle';
import { MonitoringModuleClass, MONITORING_MODULE_OPTIONS } from './monitoring.module-definition';
import type { ModelServerMonitoringOptions } from './monitoring-options.interface';
import { validateMonitoringOptions, type ValidatedMonitoring } from './monitoring-options.validation';
import { RecordPipeline } from './record-pipeline';
import { createSink } from './sinks/sink.factory';

/** The model of an event, when it overrides `loggedResults` (looked up only when a record is built). */
function loggedResultsOf(repository: ModelRepository): LoggedResultsLookup {
  return (event) => {
    try {
      const instance = repository.get(event.model, event.version).instance;
      return instance === null || instance.loggedResults === BASE_HOOKS.loggedResults ? null : instance;
    } catch {
      return null;
    }
  };
}

function createMetrics(v: ValidatedMonitoring, repository: ModelRepository, events: InferenceEventStream): PrometheusMetrics | null {
  const o = v.options;
  if (!o.metrics) return null;
  const metrics = new PrometheusMetrics(repository, { prefix: o.metricsPrefix, latencyBuckets: o.latencyBuckets, processMetrics: o.processMetrics });
  // With --workers N each scrape reaches one process: a worker label keeps their series apart (sum them in queries).
  if (cluster.isWorker && cluster.worker !== undefined) metrics.registry.setDefaultLabels({ worker: String(cluster.worker.id) });
  // Executors are created as models load: the observer must be in place before that.
  repository.setExecutorObserver(metrics);
  metrics.observe(events);
  return metrics;
}

async function createPipe(
  v: ValidatedMonitoring,
  events: InferenceEventStream,
  repository: ModelRepository,
  metrics: PrometheusMetrics | null,
): Promise<RecordPipeline | null> {
  const o = v.options;
  const sink = o.sink ?? (v.target === undefined ? undefined : createSink(v.target, o));
  if (sink === undefined) return null;
  const logger = new Logger('Monitoring');
  const sampler = new EventSampler(o.sample, o.sampleProbability, o.random);
  const formatter =
    o.format === 'mlrun'
      ? new MlrunRecordFormatter(
          { functionUri: o.functionUri, host: o.host, worker: o.worker, sampling: sampler.info, endpointIds: o.endpointIds, logClientErrors: o.logClientErrors },
          loggedResultsOf(repository),
          (m) => logger.warn(m),
        )
      : new CloudEventsFormatter(o.cloudEvents);
  const pipe = new RecordPipeline(sink, formatter, sampler, o, o.scheduler, metrics ?? undefined);
  metrics?.watchPipe(pipe);
  // Subscribed while providers are built, before any model loads, so warm-up requests are recorded too.
  await pipe.start(events.events$);
  logger.log(`request records (${o.format}) go to ${sink.target}`);
  return pipe;
}

/**
 * Monitoring for {@link ModelServerModule}: request records to a stream (`logStream`: stdout, a JSON-lines file,
 * Redis Streams, HTTP) in MLRun or KServe CloudEvents format, sampled, micro-batched and buffered so a slow or
 * dead sink never delays an inference; and Prometheus metrics at `GET /metrics`. Import it next to
 * `ModelServerModule.forRoot(...)`.
 *
 * @example
 * ModelServerMonitoringModule.forRoot({ logStream: 'redis://127.0.0.1:6379/inference', sample: 10 })
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: MONITORING_OPTIONS,
      useFactory: (options: ModelServerMonitoringOptions, server: ResolvedModelServerOptions) => validateMonitoringOptions(options, server.serverName),
      inject: [MONITORING_MODULE_OPTIONS, RESOLVED_OPTIONS],
    },
    { provide: PrometheusMetrics, useFactory: createMetrics, inject: [MONITORING_OPTIONS, ModelRepository, InferenceEventStream] },
    { provide: RecordPipeline, useFactory: createPipe, inject: [MONITORING_OPTIONS, InferenceEventStream, ModelRepository, PrometheusMetrics] },
    MetricsRegistrar,
    MonitoringLifecycle,
  ],
  exports: [PrometheusMetrics, RecordPipeline],
})
export class ModelServerMonitoringModule extends MonitoringModuleClass {}
