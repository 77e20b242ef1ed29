import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { RecordEncoder } from '../record.encoder';
import { FileSink, StreamSink } from './line.sink';

const ce = { body: '{"id":"1"}', cloudEvent: { specversion: '1.0', id: '1', type: 't', source: 's', time: '2026-01-05T00:00:00.000Z' } };

describe('FileSink', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nms-file-sink-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per record; CloudEvents in structured mode', async () => {
    const path = join(dir, 'log.jsonl');
    writeFileSync(path, '{"kept":true}\n');
    const sink = new FileSink(path);
    expect(sink.available).toBe(false);
    let told = 0;
    sink.onAvailable(() => told++);
    await sink.init();
    expect([sink.available, told, sink.target]).toEqual([true, 1, `file://${path}`]);
    await sink.send([{ body: '{"a":1}' }, ce]);
    await sink.send([{ body: '{"b":2}' }]);
    await sink.close();
    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      '{"kept":true}',
      '{"a":1}',
      '{"specversion":"1.0","id":"1","type":"t","source":"s","time":"2026-01-05T00:00:00.000Z","datacontenttype":"application/json","data":{"id":"1"}}',
      '{"b":2}',
      '',
    ]);
    await expect(sink.send([{ body: '{}' }])).rejects.toThrow(/is not open/);
  });

  it('writes encoded records as they are, runs of them at once, in order', async () => {
    const path = join(dir, 'encoded.jsonl');
    const sink = new FileSink(path);
    await sink.init();
    const encoder = new RecordEncoder();
    const [a, b, c] = ['{"a":"é"}', '{"b":2}', '{"c":3}'].map((body) => encoder.encode({ body }));
    await sink.send([a, b]);
    await sink.send([c, a, encoder.encode(ce), { body: '{"plain":true}' }]);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '{"a":"é"}\n{"b":2}\n{"c":3}\n{"a":"é"}\n' +
        '{"specversion":"1.0","id":"1","type":"t","source":"s","time":"2026-01-05T00:00:00.000Z","datacontenttype":"application/json","data":{"id":"1"}}\n' +
        '{"plain":true}\n',
    );
  });

  it('refuses a path it cannot open, naming LOG_STREAM', async () => {
    await expect(new FileSink(join(dir, 'no', 'such', 'dir.jsonl')).init()).rejects.toThrow(/cannot open the monitoring log file .*no\/such\/dir\.jsonl \(LOG_STREAM\): ENOENT/);
  });
});

describe('StreamSink', () => {
  it('writes JSON lines to its stream (stdout by default)', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const sink = new StreamSink(out);
    expect([sink.name, sink.available]).toEqual(['stdout', true]);
    await sink.send([{ body: '{"a":1}' }, { body: '{"b":2}' }]);
    const encoder = new RecordEncoder();
    await sink.send([encoder.encode({ body: '{"c":3}' }), encoder.encode({ body: '{"d":"ü"}' })]);
    expect(text).toBe('{"a":1}\n{"b":2}\n{"c":3}\n{"d":"ü"}\n');
  });

  it('lets the pipe reuse written records only for stdout: another stream may hold them after the write', () => {
    expect(new StreamSink().forgetsSentBatches).toBe(true);
    expect(new StreamSink(new PassThrough(), 'pass').forgetsSentBatches).toBe(false);
    expect(new FileSink('/tmp/x.jsonl').forgetsSentBatches).toBe(true);
  });
});
