import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrometheusMetrics } from './metrics/prometheus-metrics.service';
import { MonitoringPipe } from './monitoring.pipe';

/**
 * At shutdown (after the transports drained their requests) flushes the monitoring pipe — within its
 * `flushTimeoutMs` — closes its sink and stops the metrics.
 *
 * @internal
 */
@Injectable()
export class MonitoringLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(MonitoringPipe) private readonly pipe: MonitoringPipe | null,
    @Inject(PrometheusMetrics) private readonly metrics: PrometheusMetrics | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pipe?.close();
    this.metrics?.close();
  }
}
