import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrometheusMetrics } from './metrics/prometheus-metrics.service';
import { RecordPipeline } from './record-pipeline';

/**
 * At shutdown (after the transports drained their requests) flushes the record pipeline — within its
 * `flushTimeoutMs` — closes its sink and stops the metrics.
 *
 * @internal
 */
@Injectable()
export class MonitoringLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(RecordPipeline) private readonly pipe: RecordPipeline | null,
    @Inject(PrometheusMetrics) private readonly metrics: PrometheusMetrics | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pipe?.close();
    this.metrics?.close();
  }
}
