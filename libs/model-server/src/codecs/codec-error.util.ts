import { Buffer } from 'node:buffer';
/**
 * A short human description of a value for error messages: numbers and bigints as written,
 * strings quoted (cut after 40 characters), other things by kind.
 *
 * @internal
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'an array';
      if (Buffer.isBuffer(v)) return 'a Buffer';
      if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}
