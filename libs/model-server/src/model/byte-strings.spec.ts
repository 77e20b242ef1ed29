import { ByteStrings } from './byte-strings';

describe('ByteStrings', () => {
  it('holds elements in one buffer and reads them back as views or text', () => {
    const b = ByteStrings.from(['hi', '', 'héllo', Buffer.from([0xff, 0x00])]);
    expect(b.length).toBe(4);
    expect(b.byteLength).toBe(2 + 0 + 6 + 2);
    expect(b.text(0)).toBe('hi');
    expect(b.text(1)).toBe('');
    expect(b.text(2)).toBe('héllo');
    expect([...b.at(3)]).toEqual([0xff, 0x00]);
    expect(b.at(2).buffer).toBe(b.bytes.buffer); // a view, not a copy
    expect([...b].map((x) => x.length)).toEqual([2, 0, 6, 2]);
    expect(b.toStrings().slice(0, 3)).toEqual(['hi', '', 'héllo']);
    expect(b.toArray()[0].equals(Buffer.from('hi'))).toBe(true);
  });

  it('refuses out-of-range elements and offsets past the bytes', () => {
    const b = ByteStrings.from(['a']);
    expect(() => b.at(1)).toThrow(RangeError);
    expect(() => b.text(-1)).toThrow(RangeError);
    expect(() => new ByteStrings(Buffer.alloc(1), new Uint32Array([0, 2]))).toThrow(RangeError);
    expect(() => new ByteStrings(Buffer.alloc(1), new Uint32Array(0))).toThrow(RangeError);
  });

  it('slices without copying and concatenates slices in order', () => {
    const b = ByteStrings.from(['a', 'bb', 'ccc', 'dddd']);
    const mid = b.slice(1, 3);
    expect(mid.toStrings()).toEqual(['bb', 'ccc']);
    expect(mid.bytes).toBe(b.bytes);
    const joined = ByteStrings.concat([mid, b.slice(0, 1), ByteStrings.from([]), b.slice(3)]);
    expect(joined.toStrings()).toEqual(['bb', 'ccc', 'a', 'dddd']);
    expect(joined.offsets[0]).toBe(0);
  });
});
