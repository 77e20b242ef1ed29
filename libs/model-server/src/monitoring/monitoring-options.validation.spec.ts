import { hostname } from 'node:os';
import { asyncScheduler } from 'rxjs';
import { validateMonitoringOptions } from './monitoring-options.validation';

describe('validateMonitoringOptions', () => {
  it('applies the defaults: no stream, metrics on, MLRun records, a bounded buffer', () => {
    const { options, target } = validateMonitoringOptions(undefined, 'nest-model-server');
    expect(target).toBeUndefined();
    expect(options).toMatchObject({
      format: 'mlrun',
      sample: 1,
      sampleProbability: 1,
      batchSize: 100,
      batchIntervalMs: 200,
      bufferSize: 10_000,
      bufferBytes: 64 * 1024 * 1024,
      dropPolicy: 'drop-oldest',
      concurrency: 4,
      timeoutMs: 5000,
      retries: 3,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 5000,
      flushTimeoutMs: 5000,
      functionUri: 'default/nest-model-server',
      host: hostname(),
      worker: 0,
      metrics: true,
      metricsPath: '/metrics',
      metricsPrefix: 'nms_',
      processMetrics: true,
      cloudEvents: { source: hostname(), namespace: 'default', component: 'predictor', endpoint: 'default', errorEvents: false },
    });
    expect(options.scheduler).toBe(asyncScheduler);
  });

  it('sends larger batches to a file or stdout, where one write takes them all', () => {
    const batch = (o: object) => validateMonitoringOptions(o, 's').options.batchSize;
    expect([batch({ logStream: 'file:///tmp/x.jsonl' }), batch({ logStream: 'stdout' }), batch({ logStream: 'redis://127.0.0.1/k' })]).toEqual([1000, 1000, 100]);
    expect([batch({ logStream: 'http://127.0.0.1:9/e' }), batch({ logStream: 'file:///tmp/x.jsonl', batchSize: 7 })]).toEqual([100, 7]);
  });

  it('sends CloudEvents to an HTTP stream unless told otherwise', () => {
    expect(validateMonitoringOptions({ logStream: 'http://127.0.0.1:9/e' }, 's').options.format).toBe('cloudevents');
    expect(validateMonitoringOptions({ logStream: 'http://127.0.0.1:9/e', format: 'mlrun' }, 's').options.format).toBe('mlrun');
    expect(validateMonitoringOptions({ logStream: 'redis://127.0.0.1/k' }, 's').target).toMatchObject({ kind: 'redis', key: 'k' });
  });

  it('lists every problem in one error, naming the setting', () => {
    let message = '';
    try {
      validateMonitoringOptions(
        {
          logStream: 'redis://127.0.0.1:6379',
          sample: 3,
          sampleProbability: 0.5,
          bufferSize: 0,
          retries: -1,
          format: 'json' as never,
          cloudEvents: { source: 'pod\u00e9' },
          latencyBuckets: [0.1, 0.05],
          metricsPrefix: '9bad',
          sink: {} as never,
        },
        's',
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid monitoring options:/);
    expect(message).toMatch(/bufferSize: bufferSize must not be less than 1/);
    expect(message).toMatch(/retries: retries must not be less than 0/);
    expect(message).toMatch(/format: format must be one of the following values: mlrun, cloudevents/);
    expect(message).toMatch(/cloudEvents\.source: source must be printable ASCII/);
    expect(message).toMatch(/sample \/ sampleProbability: choose one way of sampling/);
    expect(message).toMatch(/latencyBuckets: must be positive numbers of seconds in increasing order/);
    expect(message).toMatch(/metricsPrefix: metricsPrefix may hold letters/);
    expect(message).toMatch(/sink: must be a MonitoringSink/);
    expect(message).toMatch(/logStream: LOG_STREAM 'redis:\/\/127.0.0.1:6379' names no stream key/);
  });

  it('takes MLRun function URIs with a project only', () => {
    expect(validateMonitoringOptions({ functionUri: 'fraud/serving:latest' }, 's').options.functionUri).toBe('fraud/serving:latest');
    expect(validateMonitoringOptions({ functionUri: 'fraud/serving@3a1f' }, 's').options.functionUri).toBe('fraud/serving@3a1f');
    expect(() => validateMonitoringOptions({ functionUri: 'serving' }, 's')).toThrow(/functionUri must look like <project>\/<function>/);
  });
});
