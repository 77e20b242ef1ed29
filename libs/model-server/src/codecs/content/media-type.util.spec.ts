import { negotiateMediaType, parseMediaType } from './media-type.util';

const TYPES = ['application/json', 'text/csv', 'application/x-npy'];

describe('parseMediaType', () => {
  it('lower-cases the type and reads parameters, quoted or not', () => {
    expect(parseMediaType('Text/CSV; Charset=UTF-8; header="present"')).toEqual({ type: 'text/csv', params: { charset: 'UTF-8', header: 'present' } });
  });

  it('gives an empty type for an absent header', () => {
    expect(parseMediaType(undefined)).toEqual({ type: '', params: {} });
    expect(parseMediaType('  ')).toEqual({ type: '', params: {} });
  });
});

describe('negotiateMediaType', () => {
  it('answers the preferred type when Accept is absent or only a wildcard', () => {
    expect(negotiateMediaType(undefined, TYPES, 'text/csv')).toEqual({ mediaType: 'text/csv', params: {} });
    expect(negotiateMediaType('*/*', TYPES, 'text/csv')).toEqual({ mediaType: 'text/csv', params: {} });
    expect(negotiateMediaType('', TYPES, 'application/json')?.mediaType).toBe('application/json');
  });

  it('takes an explicit type, with its parameters', () => {
    expect(negotiateMediaType('text/csv;header=present', TYPES, 'application/json')).toEqual({ mediaType: 'text/csv', params: { header: 'present' } });
  });

  it('follows quality values and refuses q=0', () => {
    expect(negotiateMediaType('text/csv;q=0.5, application/x-npy', TYPES, 'application/json')?.mediaType).toBe('application/x-npy');
    expect(negotiateMediaType('application/json;q=0, */*;q=0.1', TYPES, 'application/json')?.mediaType).toBe('text/csv');
  });

  it('lets the most specific range decide a type\'s quality', () => {
    expect(negotiateMediaType('text/*;q=0.2, text/csv;q=0.9, application/*;q=0.5', TYPES, 'application/json')?.mediaType).toBe('text/csv');
  });

  it('prefers an earlier explicit entry on a tie, and the preferred type among wildcard matches', () => {
    expect(negotiateMediaType('application/x-npy, text/csv', TYPES, 'text/csv')?.mediaType).toBe('application/x-npy');
    expect(negotiateMediaType('application/*', TYPES, 'application/x-npy')?.mediaType).toBe('application/x-npy');
  });

  it('gives undefined when nothing acceptable is available', () => {
    expect(negotiateMediaType('image/png', TYPES, 'application/json')).toBeUndefined();
    expect(negotiateMediaType('text/html, application/xml;q=0.9', TYPES, 'application/json')).toBeUndefined();
  });

  it('ignores malformed entries', () => {
    expect(negotiateMediaType('garbage, text/csv', TYPES, 'application/json')?.mediaType).toBe('text/csv');
    expect(negotiateMediaType('garbage', TYPES, 'application/json')?.mediaType).toBe('application/json');
  });
});
