import { Buffer } from 'node:buffer';
import { ByteStrings } from '../model/byte-strings';
import type { Datatype } from '../model/datatype';
import type { OutputTensor, Tensor } from '../model/tensor.interface';
import { modelOutputError } from '../errors';

/**
 * How an ensemble combines one output: `classification` takes the (weighted) majority value of each element,
 * `regression` the weighted mean; `auto` chooses regression for floating-point outputs and classification for
 * integers, booleans and strings.
 *
 * @publicApi
 */
export type VoteType = 'auto' | 'classification' | 'regression';

const FLOATS = new Set<Datatype>(['FP16', 'BF16', 'FP32', 'FP64']);

/** One member's ballot for one output. @internal */
export interface Ballot {
  /** The member's name, for messages. */
  member: string;
  tensor: Tensor;
  weight: number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Combines the members' tensors for output `name` into one: every ballot must have the same datatype and
 * shape. Classification ties go to the lowest value (MLRun's lowest class); regression answers FP32 for 32-bit
 * and narrower floats and FP64 otherwise. Disagreeing members are a model error (500) naming them.
 *
 * @internal
 */
export function combineOutput(name: string, ballots: readonly Ballot[], type: VoteType, router: string): OutputTensor {
  const first = ballots[0].tensor;
  for (let i = 1; i < ballots.length; i++) {
    const t = ballots[i].tensor;
    if (t.datatype !== first.datatype || !sameShape(t.shape, first.shape)) {
      throw modelOutputError(
        `router '${router}': members disagree on output '${name}': '${ballots[0].member}' gives ${first.datatype} [${first.shape.join(',')}], ` +
          `'${ballots[i].member}' gives ${t.datatype} [${t.shape.join(',')}]`,
      );
    }
  }
  const regression = type === 'regression' || (type === 'auto' && FLOATS.has(first.datatype));
  if (!regression) return { name, datatype: first.datatype, shape: first.shape.slice(), data: majority(ballots) };
  if (first.datatype === 'BYTES') throw modelOutputError(`router '${router}': output '${name}' is BYTES, which cannot be averaged; vote on it as classification`);
  const narrow = first.datatype === 'FP32' || first.datatype === 'FP16' || first.datatype === 'BF16';
  const sums = mean(ballots, first.data.length);
  const data = narrow ? Float32Array.from(sums) : sums;
  return { name, datatype: narrow ? first.datatype : 'FP64', shape: first.shape.slice(), data };
}

/** Element by element, the value with the largest total weight; a tie goes to the lowest value. */
function majority(ballots: readonly Ballot[]): Tensor['data'] {
  const m = ballots.length;
  const bytes = ballots[0].tensor.datatype === 'BYTES';
  const columns = new Array<ArrayLike<unknown>>(m);
  for (let i = 0; i < m; i++) {
    const data = ballots[i].tensor.data;
    columns[i] = data instanceof ByteStrings ? data.toArray() : (data as ArrayLike<unknown>);
  }
  const n = columns[0].length;
  const first = ballots[0].tensor.data;
  const out = (bytes ? new Array<Buffer>(n) : new (first.constructor as new (n: number) => Tensor['data'])(n)) as unknown as unknown[];
  const tally = new Float64Array(m);
  for (let e = 0; e < n; e++) {
    tally.fill(0);
    for (let i = 0; i < m; i++) {
      const v = columns[i][e];
      let j = 0;
      while (j < i && !same(columns[j][e], v, bytes)) j++;
      tally[j] += ballots[i].weight;
    }
    // The value with the most weight; between equal weights the lowest value (MLRun's argmax over classes).
    let best = 0;
    for (let i = 1; i < m; i++) {
      if (tally[i] > tally[best] || (tally[i] === tally[best] && tally[i] > 0 && lower(columns[i][e], columns[best][e], bytes))) best = i;
    }
    out[e] = columns[best][e];
  }
  return (bytes ? ByteStrings.from(out as Buffer[]) : out) as unknown as Tensor['data'];
}

function lower(a: unknown, b: unknown, bytes: boolean): boolean {
  return bytes ? Buffer.compare(a as Buffer, b as Buffer) < 0 : (a as number | bigint) < (b as number | bigint);
}

function same(a: unknown, b: unknown, bytes: boolean): boolean {
  return bytes ? (a as Buffer).equals(b as Buffer) : a === b;
}

/** The weighted mean of every element, summed in double precision. */
function mean(ballots: readonly Ballot[], n: number): Float64Array {
  const out = new Float64Array(n);
  let total = 0;
  for (const b of ballots) total += b.weight;
  for (const b of ballots) {
    const data = b.tensor.data as ArrayLike<number | bigint>;
    const w = b.weight / total;
    for (let e = 0; e < n; e++) out[e] += Number(data[e]) * w;
  }
  return out;
}
