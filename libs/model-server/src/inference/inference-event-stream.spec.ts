import { InferenceEventStream } from './inference-event-stream';
import type { InferenceEvent } from './inference-event.interface';

const event = (id: string) => ({ id }) as InferenceEvent;

describe('InferenceEventStream', () => {
  it('is active only while someone listens or subscribes', () => {
    const stream = new InferenceEventStream();
    expect(stream.active).toBe(false);
    const stop = stream.listen(() => undefined);
    const sub = stream.events$.subscribe();
    expect(stream.active).toBe(true);
    stop();
    expect(stream.active).toBe(true);
    sub.unsubscribe();
    expect(stream.active).toBe(false);
  });

  it('says payloads are read while a listener that may read them (or a subscriber) is there, not for facts-only listeners', () => {
    const stream = new InferenceEventStream();
    const facts = stream.listen(() => undefined, { payloads: false });
    expect([stream.active, stream.payloads]).toEqual([true, false]);
    const reader = stream.listen(() => undefined);
    const sub = stream.events$.subscribe();
    expect(stream.payloads).toBe(true);
    reader();
    reader(); // stopping twice counts once
    expect(stream.payloads).toBe(true);
    sub.unsubscribe();
    expect([stream.active, stream.payloads]).toEqual([true, false]);
    facts();
    expect([stream.active, stream.payloads]).toEqual([false, false]);
  });

  it('gives each event to listeners and subscribers in order; a throwing listener starves no one', () => {
    const stream = new InferenceEventStream();
    const seen: string[] = [];
    stream.listen((e) => seen.push(`a:${e.id}`));
    stream.listen(() => {
      throw new Error('broken listener');
    });
    stream.events$.subscribe((e) => seen.push(`b:${e.id}`));
    expect(() => stream.emit(event('1'))).not.toThrow();
    stream.emit(event('2'));
    expect(seen).toEqual(['a:1', 'b:1', 'a:2', 'b:2']);
  });

  it('stops giving events to a listener once stopped, even during an emit', () => {
    const stream = new InferenceEventStream();
    const seen: string[] = [];
    let stopSecond = (): void => undefined;
    stream.listen(() => stopSecond());
    stopSecond = stream.listen((e) => seen.push(e.id));
    stream.emit(event('1')); // the listener list of this emit was taken before the stop
    stream.emit(event('2'));
    expect(seen).toEqual(['1']);
  });

  it('completes subscribers at shutdown; later subscribers complete at once and events go nowhere', () => {
    const stream = new InferenceEventStream();
    const done: string[] = [];
    stream.events$.subscribe({ complete: () => done.push('early') });
    stream.complete();
    expect(done).toEqual(['early']);
    expect(stream.active).toBe(false);
    const late: string[] = [];
    stream.events$.subscribe({ next: (e) => late.push(e.id), complete: () => done.push('late') });
    stream.listen((e) => late.push(e.id));
    stream.emit(event('x'));
    expect(done).toEqual(['early', 'late']);
    expect(late).toEqual([]);
    expect(stream.active).toBe(false);
  });
});
