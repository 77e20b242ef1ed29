import { delimitedSize, int64ToNumber, ProtoReader, ProtoWriter, varint64Size } from './proto-wire.util';

const PAIRS: [number, number][] = [
  [0, 0],
  [127, 0],
  [128, 0],
  [0xffffffff, 0],
  [0, 1],
  [0xffffffff, 0x7fffffff],
  [0, 0x80000000],
  [0xffffffff, 0xffffffff],
  [0x12345678, 0x9abcdef0],
];

describe('protobuf varints', () => {
  it.each(PAIRS)('64-bit %d / %d survives a write and a read, in the size computed', (lo, hi) => {
    const w = new ProtoWriter(varint64Size(lo, hi));
    w.varint64(lo, hi);
    expect(w.pos).toBe(w.buf.length);
    const r = new ProtoReader(w.buf, 0, w.buf.length, 'Test');
    r.varint();
    expect([r.lo, r.hi, r.pos]).toEqual([lo, hi, w.buf.length]);
  });

  it('gives signed numbers from two’s complement halves', () => {
    expect(int64ToNumber(0xffffffff, 0xffffffff)).toBe(-1);
    expect(int64ToNumber(0, 0xffe00000)).toBe(-(2 ** 53));
    expect(int64ToNumber(5, 1)).toBe(2 ** 32 + 5);
  });

  it('refuses varints longer than 10 bytes or cut short', () => {
    const long = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => new ProtoReader(long, 0, long.length, 'Test').varint()).toThrow(/longer than 10 bytes/);
    const cut = Buffer.from([0x80, 0x80]);
    expect(() => new ProtoReader(cut, 0, cut.length, 'Test').varint()).toThrow(/cut short/);
  });
});

describe('protobuf strings', () => {
  const STRINGS = ['', 'echo', 'input-0', 'é', 'model-ü', '🙂', '\u007f', 'a'.repeat(64), 'a'.repeat(65), `${'a'.repeat(63)}é`, 'é'.repeat(100), '\ud800'];

  it.each(STRINGS)('%j is written as its UTF-8 bytes', (s) => {
    const len = Buffer.byteLength(s, 'utf8');
    const w = new ProtoWriter(delimitedSize(len));
    w.stringField(1, s, len);
    expect(w.pos).toBe(w.buf.length);
    const r = new ProtoReader(w.buf, 0, w.buf.length, 'Test');
    r.tag();
    const end = r.delimited();
    expect(w.buf.subarray(r.pos, end).equals(Buffer.from(s, 'utf8'))).toBe(true);
  });
});
