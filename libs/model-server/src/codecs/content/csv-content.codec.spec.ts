import { ErrorCode } from '../../errors/error-code.enum';
import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import type { ContentTarget, DecodedContent, MediaTypeParams } from './content-codec.interface';
import { contentTarget } from './content-target.util';
import { CsvContentCodec } from './csv-content.codec';
import { errorOf } from '../../../../../test/helpers/error-of';

const codec = new CsvContentCodec();
const IRIS = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);

/** Decodes a small body, which the codec reads at once (no Promise). */
function decode(body: Buffer, target: ContentTarget, params: MediaTypeParams): DecodedContent {
  const result = codec.decode(body, target, params);
  if (result instanceof Promise) throw new Error('a small body should be read at once');
  return result;
}

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: '1', outputs };
}

describe('CsvContentCodec', () => {
  it('reads rows of numbers into one [rows, columns] tensor of the model input', () => {
    const { request, format } = decode(Buffer.from('5.1,3.5,1.4,0.2\r\n6.7, 3.0 ,"5.2",2.3\n\n'), IRIS, {});
    expect(format).toBe('rows');
    expect(request.inputs).toEqual([{ name: 'input-0', datatype: 'FP32', shape: [2, 4], data: Float32Array.from([5.1, 3.5, 1.4, 0.2, 6.7, 3, 5.2, 2.3]) }]);
  });

  it('skips a header line when the media type says header=present, and a BOM', () => {
    const { request } = decode(Buffer.from('\ufeffa,b\n1,2\n'), IRIS, { header: 'present' });
    expect(request.inputs[0].shape).toEqual([1, 2]);
  });

  it('gives a 1-D input one value per line', () => {
    const target = contentTarget('m', [{ name: 'x', datatype: 'FP64', shape: [-1] }]);
    expect(decode(Buffer.from('1\n2\n3\n'), target, {}).request.inputs[0].shape).toEqual([3]);
  });

  it('reads 64-bit integers exactly', () => {
    const target = contentTarget('m', [{ name: 'id', datatype: 'INT64', shape: [-1, 2] }]);
    const { request } = decode(Buffer.from('9223372036854775807,-1\n'), target, {});
    expect(request.inputs[0].data).toEqual(BigInt64Array.from([9223372036854775807n, -1n]));
  });

  it('refuses fields that are not numbers and ragged rows, naming the line', () => {
    expect(() => decode(Buffer.from('1,2\n3,abc\n'), IRIS, {})).toThrow('CSV line 2, field 2: "abc" is not a number');
    expect(() => decode(Buffer.from('1,2\n3,\n'), IRIS, {})).toThrow('CSV line 2, field 2: empty is not a number');
    expect(() => decode(Buffer.from('1,2\n3\n'), IRIS, {})).toThrow('CSV line 2 has 1 fields, but line 1 has 2');
    expect(() => decode(Buffer.from('0x10\n'), IRIS, {})).toThrow('"0x10" is not a number');
    expect(() => decode(Buffer.from('\n \n'), IRIS, {})).toThrow('the CSV body has no rows');
  });

  it('refuses models with several inputs', () => {
    const target = contentTarget('two', [
      { name: 'a', datatype: 'FP32', shape: [-1] },
      { name: 'b', datatype: 'FP32', shape: [-1] },
    ]);
    expect(() => decode(Buffer.from('1\n'), target, {})).toThrow("model 'two' takes 2 inputs ('a', 'b'); text/csv carries one, so send a v2 request as application/json");
  });

  it('writes one line per row, every output of the row in turn', () => {
    const text = codec.encode(
      response([
        { name: 'class', datatype: 'INT64', shape: [2], data: BigInt64Array.from([0n, 2n]) },
        { name: 'label', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['setosa', 'a, "b"']) },
        { name: 'p', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.1, 0.9, NaN, Infinity]) },
      ]),
      { mediaType: 'text/csv', params: {}, format: 'rows' },
    );
    expect(text).toBe('0,setosa,0.1,0.9\n2,"a, ""b""",nan,inf\n');
  });

  it('adds a header line when asked', () => {
    const text = codec.encode(
      response([
        { name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.from([1.5]) },
        { name: 'p', datatype: 'BOOL', shape: [1, 2], data: Uint8Array.from([1, 0]) },
      ]),
      { mediaType: 'text/csv', params: { header: 'present' }, format: 'rows' },
    );
    expect(text).toBe('y,p_0,p_1\n1.5,true,false\n');
  });

  it('refuses outputs that do not share a row count (406)', () => {
    expect(() =>
      codec.encode(
        response([
          { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array(2) },
          { name: 'b', datatype: 'FP32', shape: [3], data: new Float32Array(3) },
        ]),
        { mediaType: 'text/csv', params: {}, format: 'rows' },
      ),
    ).toThrow(expect.objectContaining({ code: 'NOT_ACCEPTABLE' }));
  });

  describe('reading', () => {
    const F64 = contentTarget('m', [{ name: 'x', datatype: 'FP64', shape: [-1, -1] }]);

    it('reads numbers exactly as Number() does, on the fast path and off it', () => {
      const texts = ['0', '-0', '+1', '1.', '.5', '-.5e-3', '00012', '1e22', '1e23', '123456789012345', '1234567890123456', '9007199254740993',
        '0.1', '0.3', '2.2250738585072014e-308', '4.9e-324', '1.7976931348623157e308', '123.456e-7', '5e-400', '0.000000000000000000000001',
        '3.141592653589793238462643383279', '18446744073709551615', '-12345678901234567890', '1E5', '7e+2'];
      for (let i = 0; i < 2000; i++) {
        const digits = String(Math.floor(Math.random() * 1e9)).padStart(9, '0');
        const point = Math.floor(Math.random() * 10);
        const exp = Math.floor(Math.random() * 60) - 30;
        texts.push(`${digits.slice(0, point)}.${digits.slice(point)}e${exp}`, String(Math.random() * 10 ** (Math.random() * 40 - 20)));
      }
      const data = decode(Buffer.from(texts.join('\n')), contentTarget('m', [{ name: 'x', datatype: 'FP64', shape: [-1] }]), {}).request.inputs[0].data as Float64Array;
      for (let i = 0; i < texts.length; i++) expect([texts[i], data[i]]).toEqual([texts[i], Number(texts[i])]);
    });

    it('reads 64-bit integers exactly at their limits and refuses beyond them', () => {
      const int64 = contentTarget('m', [{ name: 'i', datatype: 'INT64', shape: [-1] }]);
      const uint64 = contentTarget('m', [{ name: 'u', datatype: 'UINT64', shape: [-1] }]);
      const body = Buffer.from('-9223372036854775808\n9223372036854775807\n-0\n"-42"\n1e3\n-4294967296\n');
      expect(decode(body, int64, {}).request.inputs[0].data).toEqual(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, -42n, 1000n, -(2n ** 32n)]));
      expect(decode(Buffer.from('18446744073709551615\n0\n4294967296\n'), uint64, {}).request.inputs[0].data).toEqual(
        BigUint64Array.from([2n ** 64n - 1n, 0n, 2n ** 32n]),
      );
      expect(errorOf(() => decode(Buffer.from('9223372036854775808\n'), int64, {})).message).toBe(
        'CSV line 1, field 1: "9223372036854775808" is out of range for INT64 (-9223372036854775808..9223372036854775807)',
      );
      expect(errorOf(() => decode(Buffer.from('-9223372036854775809\n'), int64, {})).message).toMatch(/is out of range for INT64/);
      expect(errorOf(() => decode(Buffer.from('18446744073709551616\n'), uint64, {})).message).toMatch(/is out of range for UINT64/);
      expect(errorOf(() => decode(Buffer.from('-1\n'), uint64, {})).message).toMatch(/"-1" is out of range for UINT64/);
      expect(errorOf(() => decode(Buffer.from('1.5\n'), int64, {})).message).toBe('CSV line 1, field 1: "1.5" is not an integer; INT64 takes integers');
    });

    it("fills the input's own container with decoding's checks: small integers, BOOL, FP16 (no second copy)", () => {
      const target = (datatype: 'INT8' | 'UINT16' | 'BOOL' | 'FP16' | 'BF16') => contentTarget('m', [{ name: 'x', datatype, shape: [-1, -1] }]);
      expect(decode(Buffer.from('-128,127\n1e2,-0\n'), target('INT8'), {}).request.inputs[0].data).toEqual(Int8Array.from([-128, 127, 100, 0]));
      expect(decode(Buffer.from('65535\n'), target('UINT16'), {}).request.inputs[0].data).toEqual(Uint16Array.from([65535]));
      expect(decode(Buffer.from('1,0\n'), target('BOOL'), {}).request.inputs[0].data).toEqual(Uint8Array.from([1, 0]));
      expect(decode(Buffer.from('0.1,65504\n'), target('FP16'), {}).request.inputs[0].data).toEqual(Float32Array.from([0.0999755859375, 65504]));
      expect(errorOf(() => decode(Buffer.from('1,128\n'), target('INT8'), {})).message).toBe('CSV line 1, field 2: "128" is out of range for INT8 (-128..127)');
      expect(errorOf(() => decode(Buffer.from('1.5\n'), target('UINT16'), {})).message).toBe(
        'CSV line 1, field 1: "1.5" is not an integer; UINT16 takes integers in 0..65535',
      );
      expect(errorOf(() => decode(Buffer.from('2\n'), target('BOOL'), {})).message).toBe('CSV line 1, field 1: "2" is not a boolean; BOOL takes 0 or 1');
      expect(errorOf(() => decode(Buffer.from('65520\n'), target('FP16'), {})).message).toBe(
        'CSV line 1, field 1: "65520" is out of range for FP16 (largest finite magnitude 65504)',
      );
      expect(errorOf(() => decode(Buffer.from('3.4e38\n'), target('BF16'), {})).message).toMatch(/"3.4e38" is out of range for BF16/);
      const bytes = contentTarget('m', [{ name: 's', datatype: 'BYTES', shape: [-1] }]);
      expect(errorOf(() => decode(Buffer.from('1\n'), bytes, {})).message).toBe(
        "text/csv carries numbers, but input 's' of model 'm' is BYTES; send a v2 request as application/json",
      );
    });

    it('refuses integer literals over 20 digits (400), whatever the input', () => {
      const digits = '123456789012345678901';
      for (const target of [IRIS, F64, contentTarget('m', [{ name: 'i', datatype: 'INT64', shape: [-1] }])]) {
        const err = errorOf(() => decode(Buffer.from(`${digits}\n`), target, {}));
        expect(err.code).toBe(ErrorCode.InvalidRequest);
        expect(err.message).toBe(`CSV line 1, field 1: "${digits}" is an integer of 21 digits; at most 20 (64 bits) are read`);
      }
      expect(decode(Buffer.from('12345678901234567890\n'), F64, {}).request.inputs[0].data).toEqual(Float64Array.from([Number('12345678901234567890')]));
    });

    it('refuses values that are not finite (1e999) and FP32 overflow (400)', () => {
      for (const text of ['1e999', '-1e999', '1' + '0'.repeat(400) + '.5']) {
        const err = errorOf(() => decode(Buffer.from(`1,${text}\n`), F64, {}));
        expect(err.code).toBe(ErrorCode.InvalidRequest);
        expect(err.message).toMatch(/^CSV line 1, field 2: "[-0-9.e]{1,40}" is not a finite number$/);
      }
      expect(errorOf(() => decode(Buffer.from('3.5e38\n'), IRIS, {})).message).toBe(
        'CSV line 1, field 1: "3.5e38" is out of range for FP32 (largest finite magnitude 3.4028234663852886e+38)',
      );
      expect(errorOf(() => decode(Buffer.from('nan,inf\n'), F64, {})).message).toBe('CSV line 1, field 1: "nan" is not a number');
    });

    it('refuses a field over 1024 bytes at once, quoting it clipped (a 60 KB field took 1.5 s to refuse before)', () => {
      const field = '1'.repeat(60_000) + 'x';
      const err = errorOf(() => decode(Buffer.from(`1,2\n3,"${field}"\n`), IRIS, {}));
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toBe(`CSV line 2, field 2: "\\"${'1'.repeat(39)}"... is over 1024 bytes, too long for a number`);
      // Blanks count too, but a blank line of any length is skipped, as is a long header.
      expect(errorOf(() => decode(Buffer.from(`${' '.repeat(2000)}1\n`), IRIS, {})).message).toMatch(/is over 1024 bytes/);
      const ok = decode(Buffer.from(`${'h,'.repeat(5000)}h\n${' '.repeat(5000)}\n1,2\n`), IRIS, { header: 'present' });
      expect(ok.request.inputs[0]).toMatchObject({ shape: [1, 2] });
    });

    it('reads a million columns into one Float32Array, with no string per field', async () => {
      const n = 1_000_000;
      const row = Array.from({ length: n }, (_, i) => String(i % 10)).join(',');
      const t = (await codec.decode(Buffer.from(`${row}\n${row}\n`), IRIS, {})).request.inputs[0];
      expect(t.shape).toEqual([2, n]);
      const data = t.data as Float32Array;
      expect(data).toBeInstanceOf(Float32Array);
      expect([data[0], data[9], data[n + 12], data[2 * n - 1]]).toEqual([0, 9, 2, (n - 1) % 10]);
    });

    it('takes the values from the tensor budget before allocating them (413)', () => {
      const small = contentTarget('m', [{ name: 'x', datatype: 'FP64', shape: [-1, -1] }], 1024);
      const err = errorOf(() => decode(Buffer.from('1,2\n'.repeat(100)), small, {}));
      expect(err.code).toBe(ErrorCode.PayloadTooLarge);
      expect(err.message).toBe("input 'x' would take 1600 bytes decoded, over what is left of the request's 1024-byte budget for tensors (maxTensorBytes)");
    });

    it('reads a large body in slices, letting the event loop run in between', async () => {
      const row = '0.5,1.25,-3,4e-2\n';
      const body = Buffer.from(row.repeat(Math.ceil((4.5 * 1024 * 1024) / row.length)));
      let turns = 0;
      let ticking = true;
      const tick = (): void => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const pending = codec.decode(body, IRIS, {});
      expect(pending).toBeInstanceOf(Promise);
      const { request } = await pending;
      ticking = false;
      const rows = body.length / row.length;
      expect(request.inputs[0].shape).toEqual([rows, 4]);
      expect(Array.from((request.inputs[0].data as Float32Array).subarray(-4))).toEqual([0.5, 1.25, -3, Math.fround(0.04)]);
      expect(turns).toBeGreaterThanOrEqual(3);
      await expect(codec.decode(Buffer.concat([body, Buffer.from('1,2,3,x\n')]), IRIS, {})).rejects.toThrow(`CSV line ${rows + 1}, field 4: "x" is not a number`);
    });
  });
});
