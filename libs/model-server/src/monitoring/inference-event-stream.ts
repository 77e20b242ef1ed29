import { Observable, Subject } from 'rxjs';
import type { InferenceEvent } from './inference-event.interface';

/**
 * The stream of {@link InferenceEvent}s. The data plane builds an event only while {@link active} is true,
 * i.e. while at least one subscriber listens, so monitoring costs nothing when it is off.
 *
 * @publicApi
 */
export class InferenceEventStream {
  private readonly subject = new Subject<InferenceEvent>();
  private subscribers = 0;
  /** True while something subscribes to {@link events$}. */
  active = false;

  /** Subscribe to receive every event from now on. */
  readonly events$: Observable<InferenceEvent> = new Observable<InferenceEvent>((subscriber) => {
    this.subscribers += 1;
    this.active = true;
    const inner = this.subject.subscribe(subscriber);
    return () => {
      inner.unsubscribe();
      this.subscribers -= 1;
      this.active = this.subscribers > 0;
    };
  });

  /** Publishes an event; a failing subscriber never fails the request that emitted it. */
  emit(event: InferenceEvent): void {
    try {
      this.subject.next(event);
    } catch {
      // Subscribers own their errors; an inference never fails because of monitoring.
    }
  }

  /** Completes the stream (shutdown): subscribers flush what they hold. */
  complete(): void {
    this.subject.complete();
  }
}
