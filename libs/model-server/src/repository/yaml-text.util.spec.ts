import { serialize } from 'node:v8';
import { parseYamlQuietly } from './yaml-text.util';

/** True when V8 holds `s` at one byte a character (its serializer writes such strings with the tag `"`). */
const oneByte = (s: string): boolean => serialize(s)[2] === 0x22;

describe('parseYamlQuietly', () => {
  const config = ['models:', '  - name: echo', '    version: "2"', '    parameters: { unit: in, étiquette: café, label: 標籤 }', ''].join('\n');

  it('gives strings of one byte a character even when the text holds characters beyond Latin-1', () => {
    const plain = parseYamlQuietly(config);
    // An arrow in a comment makes the whole text two-byte, and the parser's strings are pieces of it.
    const arrowed = parseYamlQuietly(`# inches → centimetres\n${config}`) as { models: { name: string; version: string; parameters: Record<string, string> }[] };
    expect(arrowed).toEqual(plain);
    const [model] = arrowed.models;
    expect([model.name, model.version, model.parameters.unit, model.parameters.étiquette].map(oneByte)).toEqual([true, true, true, true]);
    expect(Object.keys(model.parameters).map(oneByte)).toEqual([true, true, true]);
    // What cannot be one byte stays as it was.
    expect(model.parameters.label).toBe('標籤');
    expect(oneByte(model.parameters.label)).toBe(false);
  });

  it('hides LOG_STREAM from the parser and gives it back', () => {
    process.env.LOG_STREAM = 'stdout';
    try {
      expect(parseYamlQuietly('a: 1')).toEqual({ a: 1 });
      expect(process.env.LOG_STREAM).toBe('stdout');
    } finally {
      delete process.env.LOG_STREAM;
    }
  });
});
