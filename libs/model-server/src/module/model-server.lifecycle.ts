import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { InferenceEventStream } from '../inference/inference-event-stream';
import { ModelRepository } from '../repository/model-repository';

/**
 * Loads the models at boot (blocking ones before the server answers), turns readiness off as soon as
 * shutdown begins, and unloads every model once the transports have drained.
 *
 * @internal
 */
@Injectable()
export class ModelServerLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(ModelRepository) private readonly repository: ModelRepository,
    @Inject(InferenceEventStream) private readonly events: InferenceEventStream,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.repository.loadAll();
  }

  beforeApplicationShutdown(): void {
    this.repository.beginShutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.repository.unloadAll();
    this.events.complete();
  }
}
