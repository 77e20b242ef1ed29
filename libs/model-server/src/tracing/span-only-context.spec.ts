import { context, createContextKey, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { PromiseContextManager } from './promise-context-manager';
import { withSpan } from './span-only-context';

const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE });
const KEY = createContextKey('some instrumentation value');

describe('withSpan', () => {
  afterEach(() => context.disable());

  it('on the root context: a context the API reads the span from, as from its own', () => {
    const light = withSpan(ROOT_CONTEXT, span);
    const own = trace.setSpan(ROOT_CONTEXT, span);
    expect(light).not.toBeInstanceOf(own.constructor);
    expect(trace.getSpan(light)).toBe(span);
    expect(trace.getSpanContext(light)).toEqual(span.spanContext());
    expect(light.getValue(KEY)).toBeUndefined();
  });

  it('setting or deleting a value gives what the API would', () => {
    const light = withSpan(ROOT_CONTEXT, span);
    const set = light.setValue(KEY, 42);
    expect([set.getValue(KEY), trace.getSpan(set)]).toEqual([42, span]);
    expect(light.getValue(KEY)).toBeUndefined();
    expect(trace.getSpan(trace.deleteSpan(light))).toBeUndefined();
    expect(light.deleteValue(KEY)).toBe(light);
    const other = trace.wrapSpanContext({ ...span.spanContext(), spanId: '1111111111111111' });
    expect(trace.getSpan(trace.setSpan(light, other))).toBe(other);
  });

  it('under another context: the API\'s own context, keeping what the parent holds', () => {
    const parent = ROOT_CONTEXT.setValue(KEY, 'kept');
    const child = withSpan(parent, span);
    expect([child.getValue(KEY), trace.getSpan(child)]).toEqual(['kept', span]);
  });

  it('is the active span for code run in it, also after an await', async () => {
    context.setGlobalContextManager(new PromiseContextManager().enable());
    const seen = await context.with(withSpan(ROOT_CONTEXT, span), async () => {
      await Promise.resolve();
      return trace.getActiveSpan();
    });
    expect(seen).toBe(span);
  });
});
