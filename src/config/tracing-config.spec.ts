import { tracingConfig } from './tracing-config';

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
      },
      { protocol: 'http/protobuf', sampler: 'always_on', endpoint: 'http://file:4318/v1/traces', serviceName: 'iris-server' },
    );
    expect(config).toEqual({
      endpoint: undefined, // the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself
      protocol: 'http/json',
      serviceName: 'iris-server',
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      resourceAttributes: {},
    });
  });

  it('takes the file alone, with the defaults of the specification', () => {
    expect(tracingConfig({}, { exporter: 'otlp', endpoint: 'http://file:4318/v1/traces', resourceAttributes: { team: 'ml' } })).toEqual({
      endpoint: 'http://file:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'nest-model-server',
      sampler: 'parentbased_always_on',
      ratio: 1,
      resourceAttributes: { team: 'ml' },
    });
    expect(tracingConfig({}, undefined, 'otlp')).toMatchObject({ protocol: 'http/protobuf' });
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
