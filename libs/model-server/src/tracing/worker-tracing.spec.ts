import { context, trace, type Span } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { SPAN_NAMES } from './span-names';
import { WorkerTracing } from './worker-tracing';

const traceparent = (digit: string): string => `00-${digit.repeat(32)}-${'a'.repeat(16)}-01`;

describe('WorkerTracing (the spans of a worker thread, sent back with each answer)', () => {
  // One per file: it registers the thread's tracer provider, as a worker does once.
  const tracing = new WorkerTracing(1, 'promise');

  /** A predict that waits `ms`, then opens and ends a span of its own after another wait. */
  const predict = (name: string, ms: number) => async (): Promise<string> => {
    await sleep(ms);
    await trace.getTracer('model').startActiveSpan(name, async (span) => {
      await sleep(1);
      span.end();
    });
    return name;
  };

  it("gives each request its own spans while requests overlap, whichever answers first", async () => {
    const [a, b] = await Promise.all([tracing.run(1, traceparent('1'), predict('a lookup', 5)), tracing.run(2, traceparent('2'), predict('b lookup', 1))]);
    expect([a, b]).toEqual(['a lookup', 'b lookup']);
    const spansB = tracing.take(2)!;
    const spansA = tracing.take(1)!;
    // In the order they ended (the main thread's replay does not need another).
    expect(spansA.map((s) => s.name)).toEqual(['a lookup', SPAN_NAMES.workerPredict]);
    expect(spansB.map((s) => s.name)).toEqual(['b lookup', SPAN_NAMES.workerPredict]);
    expect(new Set(spansA.map((s) => s.traceId))).toEqual(new Set(['1'.repeat(32)]));
    // The model's span hangs under the request's worker predict span.
    expect(spansA[0].parent).toBe(spansA[1].id);
    expect(tracing.take(1)).toBeUndefined();
  });

  it('sends nothing for a request that is not traced, and drops a span ended after its request answered', async () => {
    expect(await tracing.run(3, undefined, () => 'plain')).toBe('plain');
    expect(tracing.take(3)).toBeUndefined();
    let late: Span | undefined;
    await tracing.run(4, traceparent('4'), () => {
      late = trace.getTracer('model').startSpan('left open');
    });
    expect(tracing.take(4)!.map((s) => s.name)).toEqual([SPAN_NAMES.workerPredict]);
    late!.end();
    let child: Span | undefined;
    await tracing.run(5, traceparent('5'), () => {
      // A span under the one left open: it belongs to no request still to answer either.
      child = trace.getTracer('model').startSpan('child of the late one', undefined, trace.setSpan(context.active(), late!));
    });
    child!.end();
    expect(tracing.take(5)!.map((s) => s.name)).toEqual([SPAN_NAMES.workerPredict]);
  });

  it('records a failed predict on its span, and still hands the spans over', async () => {
    await expect(tracing.run(6, traceparent('6'), () => Promise.reject(new Error('no weights')))).rejects.toThrow('no weights');
    const [span] = tracing.take(6)!;
    expect(span.status).toMatchObject({ code: 2, message: 'no weights' });
  });
});
