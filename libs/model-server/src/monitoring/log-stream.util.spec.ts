import { parseLogStream, redact } from './log-stream.util';

describe('parseLogStream (LOG_STREAM)', () => {
  it('is nothing when empty', () => {
    expect(parseLogStream(undefined)).toBeUndefined();
    expect(parseLogStream('  ')).toBeUndefined();
  });

  it('reads stdout, file URLs and bare paths', () => {
    expect(parseLogStream('stdout')).toEqual({ kind: 'stdout' });
    expect(parseLogStream('file:///var/log/inference%20log.jsonl')).toEqual({ kind: 'file', path: '/var/log/inference log.jsonl' });
    expect(parseLogStream('logs/x.jsonl', '/srv')).toEqual({ kind: 'file', path: '/srv/logs/x.jsonl' });
    expect(parseLogStream('/abs/x.jsonl')).toEqual({ kind: 'file', path: '/abs/x.jsonl' });
  });

  it('reads Redis URLs: the path is the stream key; db, maxlen, credentials and TLS', () => {
    expect(parseLogStream('redis://127.0.0.1:6380/inference-log')).toEqual({
      kind: 'redis',
      host: '127.0.0.1',
      port: 6380,
      tls: false,
      db: 0,
      username: undefined,
      password: undefined,
      key: 'inference-log',
      maxLen: undefined,
    });
    expect(parseLogStream('rediss://user:p%40ss@cache.local/ns:model:log?db=2&maxlen=10000')).toMatchObject({
      host: 'cache.local',
      port: 6379,
      tls: true,
      db: 2,
      username: 'user',
      password: 'p@ss',
      key: 'ns:model:log',
      maxLen: 10000,
    });
    expect(parseLogStream('redis://[::1]:6379/k')).toMatchObject({ host: '::1', key: 'k' });
  });

  it('reads HTTP(S) URLs', () => {
    const target = parseLogStream('https://broker.example/ns/default');
    expect(target?.kind).toBe('http');
    expect(target?.kind === 'http' && target.url.href).toBe('https://broker.example/ns/default');
  });

  it('refuses what it cannot serve, saying what it accepts', () => {
    expect(() => parseLogStream('redis://127.0.0.1:6379')).toThrow(/names no stream key: put it in the path/);
    expect(() => parseLogStream('redis://127.0.0.1:6379/k?maxlen=-3')).toThrow(/maxlen=-3, which is not an integer ≥ 1/);
    expect(() => parseLogStream('redis://127.0.0.1:6379/k?ttl=3')).toThrow(/unknown query parameter 'ttl'/);
    expect(() => parseLogStream('kafka://broker:9092/topic')).toThrow(/unsupported scheme 'kafka:\/\/'; use stdout, file:\/\/\/path\/log.jsonl/);
    expect(() => parseLogStream('v3io:///projects/x/stream')).toThrow(/unsupported scheme 'v3io:\/\/'/);
  });

  it('never shows a password in messages', () => {
    expect(redact('redis://user:secret@host:6379/k')).toBe('redis://user:***@host:6379/k');
    expect(() => parseLogStream('redis://user:secret@host:6379')).toThrow(/redis:\/\/user:\*\*\*@host:6379/);
  });
});
