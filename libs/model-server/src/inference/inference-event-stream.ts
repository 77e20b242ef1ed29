import { Observable } from 'rxjs';
import type { InferenceEvent } from './inference-event.interface';

/** Receives every event; what it throws is its own business (it never fails the request). @publicApi */
export type InferenceEventListener = (event: InferenceEvent) => void;

/**
 * The stream of {@link InferenceEvent}s. The data plane builds an event only while {@link active} is true,
 * i.e. while at least one listener or subscriber is there, so monitoring costs nothing when it is off.
 * Consumers on the request path (metrics, request logs) use {@link listen}, a plain call per event; the
 * record pipeline subscribes to {@link events$} for RxJS operators.
 *
 * @publicApi
 */
export class InferenceEventStream {
  private listeners: readonly InferenceEventListener[] = [];
  private readonly completions = new Set<() => void>();
  private completed = false;
  /** True while something listens or subscribes. */
  active = false;

  /** Every event from now on, as an Observable; it completes at shutdown. */
  readonly events$: Observable<InferenceEvent> = new Observable<InferenceEvent>((subscriber) => {
    if (this.completed) {
      subscriber.complete();
      return undefined;
    }
    const stop = this.listen((event) => subscriber.next(event));
    const complete = (): void => subscriber.complete();
    this.completions.add(complete);
    return () => {
      stop();
      this.completions.delete(complete);
    };
  });

  /** Calls `listener` with every event from now on, until the returned function is called. */
  listen(listener: InferenceEventListener): () => void {
    if (this.completed) return () => undefined;
    this.listeners = [...this.listeners, listener];
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
    };
  }

  /** Publishes an event to every listener; a failing listener neither fails the request nor starves the others. */
  emit(event: InferenceEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](event);
      } catch {
        // Listeners own their errors; an inference never fails because of monitoring.
      }
    }
  }

  /** Completes the stream (shutdown): subscribers flush what they hold; later events go nowhere. */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.listeners = [];
    this.active = false;
    for (const complete of [...this.completions]) complete();
    this.completions.clear();
  }
}
