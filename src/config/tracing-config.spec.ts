import { asyncContextFrames, tracingConfig } from './tracing-config';

describe('tracingConfig (OTEL_* variables over the config file)', () => {
  it('is off unless an exporter is asked for', () => {
    expect(tracingConfig({}, undefined)).toBe(false);
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'none' }, { exporter: 'otlp' })).toBe(false);
  });

  it('reads the standard variables, which win over the file', () => {
    const config = tracingConfig(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.01',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        TRACING_CONTEXT: 'async-local-storage',
      },
      { protocol: 'http/protobuf', sampler: 'always_on', endpoint: 'http://file:4318/v1/traces', serviceName: 'iris-server', context: 'promise' },
    );
    expect(config).toEqual({
      endpoint: undefined, // the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself
      protocol: 'http/json',
      serviceName: 'iris-server',
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      resourceAttributes: {},
      context: 'async-local-storage',
    });
  });

  it('takes the file alone, with the defaults of the specification', () => {
    expect(tracingConfig({}, { exporter: 'otlp', endpoint: 'http://file:4318/v1/traces', resourceAttributes: { team: 'ml' } }, undefined, undefined, false)).toEqual({
      endpoint: 'http://file:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'nest-model-server',
      sampler: 'parentbased_always_on',
      ratio: 1,
      resourceAttributes: { team: 'ml' },
      context: 'promise',
    });
    expect(tracingConfig({}, undefined, 'otlp')).toMatchObject({ protocol: 'http/protobuf' });
  });

  it('carries the active span along promises unless Node keeps it without async hooks, and takes a choice', () => {
    const on = { OTEL_TRACES_EXPORTER: 'otlp' };
    expect(tracingConfig(on, undefined, undefined, undefined, false)).toMatchObject({ context: 'promise' });
    expect(tracingConfig(on, undefined, undefined, undefined, true)).toMatchObject({ context: 'async-local-storage' });
    expect(tracingConfig(on, { context: 'async-local-storage' }, undefined, undefined, false)).toMatchObject({ context: 'async-local-storage' });
    expect(tracingConfig({ ...on, TRACING_CONTEXT: 'promise' }, { context: 'async-local-storage' }, undefined, undefined, true)).toMatchObject({ context: 'promise' });
    expect(tracingConfig({ ...on, TRACING_CONTEXT: 'promise' }, undefined, undefined, 'Async-Local-Storage', false)).toMatchObject({ context: 'async-local-storage' });
    expect(() => tracingConfig(on, { context: 'zones' })).toThrow(/TRACING_CONTEXT \/ --tracing-context \/ tracing.context must be one of auto, promise, async-local-storage, got 'zones'/);
    expect(() => tracingConfig(on, { context: 3 })).toThrow(/got '3'/);
  });

  it('knows which Node versions keep AsyncLocalStorage in async context frames', () => {
    expect(asyncContextFrames('20.20.2', [])).toBe(false);
    expect(asyncContextFrames('20.20.2', ['--experimental-async-context-frame'])).toBe(false);
    expect(asyncContextFrames('22.12.0', [])).toBe(false);
    expect(asyncContextFrames('22.12.0', ['--experimental-async-context-frame'])).toBe(true);
    expect(asyncContextFrames('24.1.0', [])).toBe(true);
    expect(asyncContextFrames('24.1.0', ['--no-async-context-frame'])).toBe(false);
  });

  it('refuses what it cannot use, naming the setting', () => {
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'jaeger' }, undefined)).toThrow(/OTEL_TRACES_EXPORTER.*otlp or none.*'jaeger'/);
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, undefined)).toThrow(/http\/protobuf or http\/json/);
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }, undefined)).toThrow(/OTEL_TRACES_SAMPLER \/ tracing.sampler must be one of/);
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, undefined)).toThrow(/ratio from 0 to 1/);
    expect(() => tracingConfig({}, { exporter: 'otlp', colour: 'blue' })).toThrow(/unknown keys: colour/);
    expect(() => tracingConfig({}, 'otlp')).toThrow(/must be an object/);
  });
});
