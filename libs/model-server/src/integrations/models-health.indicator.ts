import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ModelState } from '../model/model-state.enum';
import { ModelRepository } from '../repository/model-repository';

/** What {@link ModelsHealthIndicator} reports beside its status. @publicApi */
export interface ModelsHealthDetails extends Record<string, unknown> {
  /** Model versions ready to serve (`iris`, `iris:2`). */
  ready: string[];
  /** Model versions still loading, or unloading. */
  pending: string[];
  /** Model versions that failed, with their errors. */
  failed: Record<string, string>;
  /** True once the server began shutting down (it then reports down). */
  shuttingDown: boolean;
}

/**
 * A `@nestjs/terminus` health indicator for applications that already serve a terminus health check: up when the
 * server is ready (every model version it expects is loaded and no shutdown has begun, as `/v2/health/ready`),
 * down otherwise, listing ready, pending and failed versions (failed ones with their errors).
 *
 * @example
 * \@Controller('health')
 * class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly models: ModelsHealthIndicator) {}
 *   \@Get() \@HealthCheck() check() { return this.health.check([() => this.models.isHealthy('models')]); }
 * }
 * // in a module that imports TerminusModule: providers: [ModelsHealthIndicator]
 * @publicApi
 */
@Injectable()
export class ModelsHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ModelRepository) private readonly repository: ModelRepository,
  ) {}

  /** The models' health under `key` (default `models`). */
  isHealthy<const Key extends string = 'models'>(key: Key = 'models' as Key): HealthIndicatorResult<Key> {
    const session = this.indicators.check(key);
    const details: ModelsHealthDetails = { ready: [], pending: [], failed: {}, shuttingDown: this.repository.isShuttingDown };
    for (const mv of this.repository.versions()) {
      if (!mv.wanted) continue;
      const id = mv.version === undefined ? mv.name : `${mv.name}:${mv.version}`;
      if (mv.state === ModelState.Ready) details.ready.push(id);
      else if (mv.state === ModelState.Failed) details.failed[id] = mv.error ?? 'failed';
      else details.pending.push(id);
    }
    return this.repository.isReady() ? session.up(details) : session.down(details);
  }
}
