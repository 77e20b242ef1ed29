import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokenVerifier } from '../../protocol/auth/token-verifier';
import { sendAnswer, statusErrorAnswer } from '../../protocol/http/http-answer';
import { onFastify } from '../../protocol/http/fastify-instance.util';
import { MONITORING_OPTIONS } from '../monitoring.constants';
import type { ValidatedMonitoring } from '../monitoring-options.validation';
import { PrometheusMetrics } from './prometheus-metrics.service';

/**
 * Puts `GET /metrics` (the configured path) on the application's Fastify instance at init, outside Nest's router,
 * like the v2 routes: no interceptor or guard runs on it.
 *
 * @internal
 */
@Injectable()
export class MetricsRegistrar implements OnModuleInit {
  private readonly logger = new Logger('Monitoring');

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(MONITORING_OPTIONS) private readonly monitoring: ValidatedMonitoring,
    @Inject(PrometheusMetrics) private readonly metrics: PrometheusMetrics | null,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  onModuleInit(): void {
    const metrics = this.metrics;
    if (metrics !== null) onFastify(this.adapterHost, (app) => this.register(app, metrics));
  }

  private register(app: FastifyInstance, metrics: PrometheusMetrics): void {
    this.verifier.declareOpen(this.monitoring.options.metricsPath, 'metrics');
    app.route({
      method: 'GET',
      url: this.monitoring.options.metricsPath,
      handler: async (_req: FastifyRequest, reply: FastifyReply) => {
        try {
          const { contentType, text } = await metrics.scrape();
          return reply.code(200).header('content-type', contentType).send(text);
        } catch (err) {
          this.logger.error(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}`);
          return sendAnswer(reply, statusErrorAnswer(500, 'collecting metrics failed; see the server log'));
        }
      },
    });
  }
}
