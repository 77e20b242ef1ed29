import { EncodedRecord, RecordEncoder } from './record.encoder';

const joined = (views: Buffer[]) => Buffer.concat(views).toString('utf8');

describe('RecordEncoder', () => {
  it('keeps each body as UTF-8 bytes, multi-byte text and lone surrogates included', () => {
    const encoder = new RecordEncoder();
    const texts = ['{"a":1}', '{"name":"café ☕ 𝄞"}', '{"odd":"\ud800"}'];
    const records = texts.map((body) => encoder.encode({ body }));
    expect(records.map((r) => r.body)).toEqual(['{"a":1}', '{"name":"café ☕ 𝄞"}', '{"odd":"\ufffd"}']);
    expect(records.map((r) => r.byteLength)).toEqual(texts.map((t) => Buffer.byteLength(t)));
    expect(records[1].bytes().toString('utf8')).toBe('{"name":"café ☕ 𝄞"}');
  });

  it('keeps CloudEvent attributes, and returns a record that is already encoded as it is', () => {
    const encoder = new RecordEncoder();
    const ce = encoder.encode({ body: '{}', cloudEvent: { id: '1', type: 't' } });
    expect(ce.cloudEvent).toEqual({ id: '1', type: 't' });
    expect(encoder.encode(ce)).toBe(ce);
  });

  it('gives a batch of consecutive records as one view of JSON lines, without copying', () => {
    const encoder = new RecordEncoder();
    const records = ['{"a":1}', '{"b":2}', '{"c":3}'].map((body) => encoder.encode({ body }));
    const views = EncodedRecord.lines(records);
    expect(views).toHaveLength(1);
    expect(joined(views)).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    // Out of order (a batch put back after a failure, say): one view per run.
    expect(joined(EncodedRecord.lines([records[2], records[0], records[1]]))).toBe('{"c":3}\n{"a":1}\n{"b":2}\n');
    expect(EncodedRecord.lines([records[2], records[0], records[1]])).toHaveLength(2);
    expect(EncodedRecord.lines([])).toEqual([]);
  });

  it('starts a new chunk when a record does not fit, and fits records larger than a chunk', () => {
    const encoder = new RecordEncoder();
    const small = encoder.encode({ body: '{"a":1}' });
    const big = encoder.encode({ body: JSON.stringify({ x: 'é'.repeat(600_000) }) });
    const after = encoder.encode({ body: '{"z":0}' });
    expect(big.byteLength).toBe(Buffer.byteLength(big.body));
    expect(JSON.parse(big.body).x).toHaveLength(600_000);
    expect(joined(EncodedRecord.lines([small, big, after]))).toBe(`{"a":1}\n${big.body}\n{"z":0}\n`);
    // The big record got a chunk of its exact size; the next one starts a new chunk.
    expect(EncodedRecord.lines([small, big, after]).map((v) => v.length)).toEqual([8, big.byteLength + 1, 8]);
  });
});

describe('RecordEncoder chunk reuse', () => {
  const body = (tag: string) => JSON.stringify({ tag, pad: 'x'.repeat(50_000) });
  /** Encodes records until one lands in a new chunk; returns the records of the chunk left behind and the newcomer. */
  function fillChunk(encoder: RecordEncoder, tag: string): { records: EncodedRecord[]; next: EncodedRecord } {
    const records = [encoder.encode({ body: body(`${tag}0`) })];
    for (let i = 1; ; i++) {
      const r = encoder.encode({ body: body(`${tag}${i}`) });
      if (r.bytes().buffer !== records[0].bytes().buffer) return { records, next: r };
      records.push(r);
    }
  }

  it('writes new records into a chunk once every record in it was released', () => {
    const encoder = new RecordEncoder();
    const first = fillChunk(encoder, 'a');
    expect(first.records.length).toBeGreaterThan(1);
    encoder.release(first.records);
    const second = fillChunk(encoder, 'b');
    // The chunk after the second one is the first one again: its records were all given back.
    expect(second.next.bytes().buffer).toBe(first.records[0].bytes().buffer);
    expect(JSON.parse(second.next.body).tag).toBe(`b${second.records.length}`);
    // Records still held are untouched by the reuse.
    expect(second.records.map((r) => JSON.parse(r.body).tag)).toEqual(second.records.map((_, i) => `b${i}`));
  });

  it('leaves a chunk alone while any record in it is held, a record released twice counting once', () => {
    const encoder = new RecordEncoder();
    const first = fillChunk(encoder, 'a');
    const [kept, ...others] = first.records;
    encoder.release(others);
    encoder.release(others); // again: no effect
    encoder.release([first.records[1]]);
    const second = fillChunk(encoder, 'b');
    expect(second.next.bytes().buffer).not.toBe(kept.bytes().buffer);
    expect(JSON.parse(kept.body).tag).toBe('a0');
  });

  it('ignores records it did not encode: only their own encoder takes them back', () => {
    const encoder = new RecordEncoder();
    const other = new RecordEncoder();
    const first = fillChunk(encoder, 'a');
    other.release(first.records);
    other.release([{ body: '{}' }]);
    expect(first.records.map((r) => JSON.parse(r.body).tag)).toEqual(first.records.map((_, i) => `a${i}`));
    encoder.release(first.records);
    expect(fillChunk(encoder, 'b').next.bytes().buffer).toBe(first.records[0].bytes().buffer);
  });
});
