import { formatBf16, formatFloat32, formatHalf } from '../codecs/float-format.util';
import { ByteStrings } from '../model/byte-strings';
import type { InferenceResponse } from '../model/inference.interface';
import type { Tensor } from '../model/tensor.interface';
import type { MemberFailure, MemberResponse } from './router-member.interface';

/** A float32-family value as the double its shortest text reads back as (0.1f → 0.1); non-finite stays as is. */
function shortest(v: number, format: (x: number) => string): number {
  return Number.isFinite(v) ? Number(format(v)) : v;
}

/** A tensor's values as plain JSON values (64-bit integers as bigint, BYTES as UTF-8 text). */
function plainData(t: Tensor): unknown[] {
  if (t.data instanceof ByteStrings) return t.data.toStrings();
  const data = t.data;
  const n = data.length;
  const out = new Array<unknown>(n);
  switch (t.datatype) {
    case 'FP32':
      for (let i = 0; i < n; i++) out[i] = shortest(data[i] as number, formatFloat32);
      return out;
    case 'FP16':
      for (let i = 0; i < n; i++) out[i] = shortest(data[i] as number, formatHalf);
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = shortest(data[i] as number, formatBf16);
      return out;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = data[i] !== 0;
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = data[i];
      return out;
  }
}

/** A member's response as plain JSON (for response parameters). */
function plainResponse(response: InferenceResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { model_name: response.model_name };
  if (response.model_version !== undefined) out.model_version = response.model_version;
  if (response.parameters !== undefined) out.parameters = response.parameters;
  out.outputs = response.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: plainData(t) }));
  return out;
}

/**
 * Every member's own answer, by member name, as plain JSON for the response's `parameters.members`:
 * a v2-shaped response for members that answered, `{ error, code }` for those that failed.
 *
 * @internal
 */
export function memberResults(responses: readonly MemberResponse[], failures: readonly MemberFailure[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of responses) out[r.member.name] = plainResponse(r.response);
  for (const f of failures) out[f.member.name] = { error: f.error.message, code: f.error.code };
  return out;
}
