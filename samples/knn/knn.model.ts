import { ErrorCode, ModelServer, ModelServerError } from 'nest-model-server';
import type { InferenceRequest, InferenceResult, TensorSpec } from 'nest-model-server';

/** The reference set the classifier searches: `points` rows of `dims` features and their class. */
interface ReferenceSet {
  features: Float32Array;
  classes: Uint8Array;
  points: number;
  dims: number;
  classCount: number;
}

/** mulberry32: a small 32-bit generator, so the reference set is the same on every load. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positiveInteger(value: unknown, name: string, max: number): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new Error(`parameter ${name} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/**
 * A brute-force k-nearest-neighbours classifier in pure JavaScript: `load` draws a seeded reference set of
 * `points` rows around `classes` cluster centres; `predict` measures every query row against every
 * reference row (about 1.6 million multiply-adds per row with the defaults, a few milliseconds of CPU) and
 * votes among the `k` nearest. CPU-bound by design: served with `workers`, it never stalls the event loop.
 *
 * Input `features` FP32 [N, dims]; outputs `class` INT64 [N] and `confidence` FP32 [N] (the winning share
 * of the k votes). Parameters: `points` (100000), `dims` (16), `classes` (8), `k` (5), `seed` (7).
 */
export class KnnModel extends ModelServer {
  platform = 'javascript';
  inputs: TensorSpec[] = [];
  outputs: TensorSpec[] = [
    { name: 'class', datatype: 'INT64', shape: [-1] },
    { name: 'confidence', datatype: 'FP32', shape: [-1] },
  ];
  private reference!: ReferenceSet;
  private k = 5;

  load(): void {
    const points = positiveInteger(this.context.getParam('points', 100_000), 'points', 10_000_000);
    const dims = positiveInteger(this.context.getParam('dims', 16), 'dims', 4096);
    const classCount = positiveInteger(this.context.getParam('classes', 8), 'classes', 255);
    this.k = positiveInteger(this.context.getParam('k', 5), 'k', 1000);
    const next = random(Number(this.context.getParam('seed', 7)));
    const centres = Float32Array.from({ length: classCount * dims }, () => next() * 10);
    const features = new Float32Array(points * dims);
    const classes = new Uint8Array(points);
    for (let p = 0; p < points; p++) {
      const c = Math.floor(next() * classCount);
      classes[p] = c;
      for (let d = 0; d < dims; d++) features[p * dims + d] = centres[c * dims + d] + (next() - 0.5) * 4;
    }
    this.reference = { features, classes, points, dims, classCount };
    this.inputs = [{ name: 'features', datatype: 'FP32', shape: [-1, dims] }];
    this.context.logger.log(`${points} reference points, ${dims} features, ${classCount} classes, k=${this.k}`);
  }

  predict(request: InferenceRequest): InferenceResult {
    const input = request.inputs.find((t) => t.name === 'features');
    const { dims } = this.reference;
    if (input === undefined || input.datatype !== 'FP32' || input.shape.length !== 2 || input.shape[1] !== dims) {
      throw new ModelServerError(ErrorCode.InvalidRequest, `send 'features' as FP32 [N, ${dims}]`);
    }
    const rows = input.shape[0];
    const queries = input.data as Float32Array;
    const classes = new BigInt64Array(rows);
    const confidence = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const [c, share] = this.classify(queries, r * dims);
      classes[r] = BigInt(c);
      confidence[r] = share;
    }
    return {
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [rows], data: classes },
        { name: 'confidence', datatype: 'FP32', shape: [rows], data: confidence },
      ],
    };
  }

  /** The majority class among the k nearest reference points of the row at `offset`, and its vote share. */
  private classify(queries: Float32Array, offset: number): [number, number] {
    const { features, classes, points, dims, classCount } = this.reference;
    const k = Math.min(this.k, points);
    const bestDist = new Float64Array(k).fill(Infinity);
    const bestClass = new Int32Array(k).fill(-1);
    for (let p = 0; p < points; p++) {
      let dist = 0;
      const base = p * dims;
      for (let d = 0; d < dims; d++) {
        const diff = features[base + d] - queries[offset + d];
        dist += diff * diff;
      }
      if (dist >= bestDist[k - 1]) continue;
      // Insert into the sorted list of the k best.
      let i = k - 1;
      while (i > 0 && bestDist[i - 1] > dist) {
        bestDist[i] = bestDist[i - 1];
        bestClass[i] = bestClass[i - 1];
        i--;
      }
      bestDist[i] = dist;
      bestClass[i] = classes[p];
    }
    const votes = new Int32Array(classCount);
    for (const c of bestClass) if (c >= 0) votes[c]++;
    let winner = 0;
    for (let c = 1; c < classCount; c++) if (votes[c] > votes[winner]) winner = c;
    return [winner, votes[winner] / k];
  }
}
