import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { combineOutput, type Ballot } from './vote.util';

function ballot(member: string, tensor: Partial<Tensor> & Pick<Tensor, 'datatype' | 'data'>, weight = 1): Ballot {
  return { member, weight, tensor: { name: 'y', shape: [tensor.data.length], ...tensor } as Tensor };
}

describe('combineOutput', () => {
  it('takes the majority of each element, ties going to the lowest value (MLRun\'s lowest class)', () => {
    const out = combineOutput(
      'y',
      [
        ballot('a', { datatype: 'INT64', data: BigInt64Array.from([1n, 5n, 7n, 2n]) }),
        ballot('b', { datatype: 'INT64', data: BigInt64Array.from([2n, 5n, 8n, 3n]) }),
        ballot('c', { datatype: 'INT64', data: BigInt64Array.from([2n, 6n, 9n, 3n]) }),
      ],
      'auto',
      'r',
    );
    expect(out).toEqual({ name: 'y', datatype: 'INT64', shape: [4], data: BigInt64Array.from([2n, 5n, 7n, 3n]) });
    const tie = combineOutput('y', [ballot('a', { datatype: 'INT64', data: BigInt64Array.from([9n]) }), ballot('b', { datatype: 'INT64', data: BigInt64Array.from([4n]) })], 'auto', 'r');
    expect(tie.data).toEqual(BigInt64Array.from([4n]));
  });

  it('lets weights outvote a majority, and a tie of weights go to the lowest value', () => {
    const ballots = [
      ballot('a', { datatype: 'INT32', data: Int32Array.from([1, 1]) }),
      ballot('b', { datatype: 'INT32', data: Int32Array.from([1, 1]) }),
      ballot('c', { datatype: 'INT32', data: Int32Array.from([3, 3]) }, 2),
    ];
    expect(combineOutput('y', ballots, 'classification', 'r').data).toEqual(Int32Array.from([1, 1]));
    ballots[2].weight = 2.5;
    expect(combineOutput('y', ballots, 'classification', 'r').data).toEqual(Int32Array.from([3, 3]));
  });

  it('votes on strings and booleans', () => {
    const labels = combineOutput(
      'y',
      [
        ballot('a', { datatype: 'BYTES', data: ByteStrings.from(['cat', 'dog']) }),
        ballot('b', { datatype: 'BYTES', data: ByteStrings.from(['dog', 'dog']) }),
        ballot('c', { datatype: 'BYTES', data: ByteStrings.from(['dog', 'cat']) }),
      ],
      'auto',
      'r',
    );
    expect((labels.data as ByteStrings).toStrings()).toEqual(['dog', 'dog']);
    const flags = combineOutput('y', [ballot('a', { datatype: 'BOOL', data: Uint8Array.from([1]) }), ballot('b', { datatype: 'BOOL', data: Uint8Array.from([0]) })], 'auto', 'r');
    expect(flags.data).toEqual(Uint8Array.from([0])); // a tie: false is the lower value
  });

  it('averages floats (weighted) in their own precision', () => {
    const out = combineOutput(
      'y',
      [ballot('a', { datatype: 'FP32', data: Float32Array.from([1, 2]) }, 3), ballot('b', { datatype: 'FP32', data: Float32Array.from([3, 6]) })],
      'auto',
      'r',
    );
    expect(out).toEqual({ name: 'y', datatype: 'FP32', shape: [2], data: Float32Array.from([1.5, 3]) });
    const wide = combineOutput('y', [ballot('a', { datatype: 'FP64', data: Float64Array.from([0.1]) }), ballot('b', { datatype: 'FP64', data: Float64Array.from([0.2]) })], 'auto', 'r');
    expect(wide.datatype).toBe('FP64');
    expect((wide.data as Float64Array)[0]).toBeCloseTo(0.15, 15);
  });

  it('refuses members that disagree on datatype or shape, and averaging strings', () => {
    expect(() =>
      combineOutput('y', [ballot('a', { datatype: 'FP32', data: Float32Array.from([1]) }), ballot('b', { datatype: 'FP64', data: Float64Array.from([1]) })], 'auto', 'r'),
    ).toThrow("router 'r': members disagree on output 'y': 'a' gives FP32 [1], 'b' gives FP64 [1]");
    expect(() =>
      combineOutput('y', [ballot('a', { datatype: 'FP32', data: Float32Array.from([1]) }), ballot('b', { datatype: 'FP32', data: Float32Array.from([1, 2]) })], 'auto', 'r'),
    ).toThrow("'b' gives FP32 [2]");
    expect(() => combineOutput('y', [ballot('a', { datatype: 'BYTES', data: ByteStrings.from(['x']) })], 'regression', 'r')).toThrow(/BYTES, which cannot be averaged/);
  });
});
