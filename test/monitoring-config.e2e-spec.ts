import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../src/config/server-config';

/** How the CLI's file keys, environment and flags become the monitoring module's options. */
describe('monitoring settings of the CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nms-monitoring-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(text: string): string {
    const path = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  }

  it('reads logStream and the monitoring section of the file', () => {
    const config = loadServerConfig(
      { config: file('models: []\nlogStream: redis://127.0.0.1:6379/inference\nmonitoring:\n  sample: 10\n  redisMaxLen: 100000\n  cloudEvents:\n    namespace: fraud\n') },
      {},
    );
    expect(config.monitoring).toEqual({ logStream: 'redis://127.0.0.1:6379/inference', sample: 10, redisMaxLen: 100000, cloudEvents: { namespace: 'fraud' } });
    expect(config.options).not.toHaveProperty('logStream');
    expect(config.options).not.toHaveProperty('monitoring');
  });

  it('LOG_STREAM and friends override the file; flags override the environment', () => {
    const path = file('models: []\nlogStream: stdout\nmonitoring:\n  format: mlrun\n');
    const env = { LOG_STREAM: 'file:///var/log/x.jsonl', LOG_STREAM_FORMAT: 'cloudevents', LOG_STREAM_SAMPLE: '5', LOG_STREAM_BATCH: '20', METRICS: 'off' };
    expect(loadServerConfig({ config: path }, env).monitoring).toEqual({ logStream: 'file:///var/log/x.jsonl', format: 'cloudevents', sample: 5, batchSize: 20, metrics: false });
    expect(
      loadServerConfig({ config: path, logStream: 'http://127.0.0.1:9000/', logStreamFormat: 'mlrun', logStreamSample: '2', logStreamBatch: '7', metrics: true }, env).monitoring,
    ).toEqual({ logStream: 'http://127.0.0.1:9000/', format: 'mlrun', sample: 2, batchSize: 7, metrics: true });
  });

  it('says which setting is wrong', () => {
    const path = file('models: []\n');
    expect(() => loadServerConfig({ config: path }, { LOG_STREAM_FORMAT: 'json' })).toThrow(/LOG_STREAM_FORMAT \/ --log-stream-format must be one of mlrun, cloudevents, got 'json'/);
    expect(() => loadServerConfig({ config: path }, { LOG_STREAM_SAMPLE: 'often' })).toThrow(/LOG_STREAM_SAMPLE \/ --log-stream-sample must be a non-negative integer/);
    expect(() => loadServerConfig({ config: file('models: []\nmonitoring: [1]\n') }, {})).toThrow(/"monitoring" in the config file must be an object/);
  });

  it('reads a YAML file quietly although LOG_STREAM is set (the yaml package would dump its tokens to stdout)', () => {
    const path = file('models: []\n');
    const write = jest.spyOn(process.stdout, 'write');
    const log = jest.spyOn(console, 'dir');
    const before = process.env.LOG_STREAM;
    process.env.LOG_STREAM = 'stdout';
    try {
      loadServerConfig({ config: path }, process.env);
      expect(log).not.toHaveBeenCalled();
      expect(write).not.toHaveBeenCalled();
      expect(process.env.LOG_STREAM).toBe('stdout');
    } finally {
      if (before === undefined) delete process.env.LOG_STREAM;
      else process.env.LOG_STREAM = before;
      write.mockRestore();
      log.mockRestore();
    }
  });
});
