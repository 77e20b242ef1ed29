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
  /** The listeners that read an event's payloads (its request and response), a subset of {@link listeners}. */
  private payloadReaders = 0;
  private readonly completions = new Set<() => void>();
  private completed = false;
  /** True while something listens or subscribes. */
  active = false;
  /**
   * True while some listener or subscriber may read an event's payloads (`request`, `response`): only then does a
   * streaming request keep its partial results for its event. Listeners that read only the event's facts (metrics,
   * request logs) say so when they {@link listen}.
   */
  payloads = false;

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

  /**
   * Calls `listener` with every event from now on, until the returned function is called. `payloads: false` says
   * the listener never reads an event's `request` or `response` (what it costs to keep them is then saved).
   */
  listen(listener: InferenceEventListener, options: { payloads?: boolean } = {}): () => void {
    if (this.completed) return () => undefined;
    const reads = options.payloads !== false;
    this.listeners = [...this.listeners, listener];
    this.active = true;
    if (reads) this.payloadReaders++;
    this.payloads = this.payloadReaders > 0;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
      if (reads) this.payloadReaders--;
      this.payloads = this.payloadReaders > 0;
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
    this.payloadReaders = 0;
    this.payloads = false;
    for (const complete of [...this.completions]) complete();
    this.completions.clear();
  }
}
