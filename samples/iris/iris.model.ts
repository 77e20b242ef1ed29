import { RandomForestClassifier } from 'ml-random-forest';
import { ErrorCode, ModelServer, ModelServerError } from 'nest-model-server';
import type { InferenceRequest, InferenceResult, Tensor, TensorSpec } from 'nest-model-server';

/** The file `train.js` writes and `load()` reads, relative to the model path. */
export interface IrisModelFile {
  classes: string[];
  features: string[];
  /** Per-feature means over the training rows: the baseline of the occlusion explanation. */
  featureMeans: number[];
  accuracy: { train: number; test: number; trainRows: number; testRows: number };
  forest: ReturnType<RandomForestClassifier['toJSON']>;
}

/** The input datatypes the model accepts for its feature matrix. */
const NUMERIC_INPUTS = new Set(['FP32', 'FP64', 'FP16', 'BF16']);

/**
 * An Iris flower classifier: a random forest (ml-random-forest) trained by `train.js` on the
 * classic 150-row data set, served over the v2 protocol.
 *
 * - `infer` takes an FP32 `[N, 4]` tensor `input-0` of sepal length, sepal width, petal length and
 *   petal width in centimetres, and answers the predicted `class` index, its `label` and the class
 *   `probabilities` (the share of trees voting for each class).
 * - `explain` answers, per row and feature, how much the predicted class's probability drops when that
 *   feature is replaced by its training mean (occlusion attribution), as `contributions` `[N, 4]`.
 */
export class IrisModel extends ModelServer {
  platform = 'ml-random-forest';

  inputs: TensorSpec[] = [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }];

  outputs: TensorSpec[] = [
    { name: 'class', datatype: 'INT64', shape: [-1] },
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ];

  private forest!: RandomForestClassifier;
  private classes: string[] = [];
  private features: string[] = [];
  private featureMeans: number[] = [];

  async load(): Promise<void> {
    const file = await this.context.readJson<IrisModelFile>('model.json');
    if (file.features.length !== 4 || file.featureMeans.length !== 4 || file.classes.length !== 3) {
      throw new Error('model.json does not describe a 4-feature, 3-class Iris model; rerun samples/iris/train.js');
    }
    this.forest = RandomForestClassifier.load(file.forest);
    this.classes = file.classes;
    this.features = file.features;
    this.featureMeans = file.featureMeans;
    this.context.setMetric('test_accuracy', file.accuracy.test);
    this.context.setMetric('train_accuracy', file.accuracy.train);
    this.context.logger.log(
      `loaded a forest of ${file.forest.baseModel.nEstimators} trees (test accuracy ${file.accuracy.test})`,
    );
  }

  predict(request: InferenceRequest): InferenceResult {
    const rows = this.featureRows(request);
    const probabilities = this.probabilities(rows);
    const classes = probabilities.map(argmax);
    return {
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [rows.length], data: BigInt64Array.from(classes, (c) => BigInt(c)) },
        { name: 'label', datatype: 'BYTES', shape: [rows.length], data: classes.map((c) => this.classes[c]) },
        {
          name: 'probabilities',
          datatype: 'FP32',
          shape: [rows.length, this.classes.length],
          data: Float32Array.from(probabilities.flat()),
        },
      ],
    };
  }

  /**
   * Occlusion attribution: for row `i` and feature `j`, `contributions[i][j]` is
   * `p(c | x) - p(c | x with feature j set to its training mean)`, where `c` is the class predicted for `x`.
   * Positive values mean the feature's actual value pushed the forest towards its prediction.
   */
  explain(request: InferenceRequest): InferenceResult {
    const rows = this.featureRows(request);
    const nFeatures = this.featureMeans.length;
    const base = this.probabilities(rows);
    const classes = base.map(argmax);

    // One batch of N * 4 occluded rows: row i with feature j replaced by its mean.
    const occluded: number[][] = [];
    for (const row of rows) {
      for (let j = 0; j < nFeatures; j++) {
        const copy = row.slice();
        copy[j] = this.featureMeans[j];
        occluded.push(copy);
      }
    }
    const occludedProbabilities = this.probabilities(occluded);

    const contributions = new Float32Array(rows.length * nFeatures);
    for (let i = 0; i < rows.length; i++) {
      const c = classes[i];
      for (let j = 0; j < nFeatures; j++) {
        contributions[i * nFeatures + j] = base[i][c] - occludedProbabilities[i * nFeatures + j][c];
      }
    }

    return {
      outputs: [
        { name: 'contributions', datatype: 'FP32', shape: [rows.length, nFeatures], data: contributions },
        { name: 'class', datatype: 'INT64', shape: [rows.length], data: BigInt64Array.from(classes, (c) => BigInt(c)) },
        { name: 'label', datatype: 'BYTES', shape: [rows.length], data: classes.map((c) => this.classes[c]) },
      ],
      parameters: { method: 'occlusion', baseline: 'training mean', features: this.features },
    };
  }

  /**
   * The request's feature matrix as rows of 4 numbers; refuses anything else with a 400.
   * Served with its declared `inputs`, the framework already refuses other names, datatypes and shapes
   * before any hook runs; these checks keep the model safe when it is served without that declaration
   * (then FP64 and any single input name are accepted too).
   */
  private featureRows(request: InferenceRequest): number[][] {
    const input = pickInput(request.inputs);
    if (!NUMERIC_INPUTS.has(input.datatype)) {
      throw new ModelServerError(
        ErrorCode.InvalidRequest,
        `input '${input.name}' must be FP32 or FP64, got ${input.datatype}`,
      );
    }
    const nFeatures = this.featureMeans.length;
    const [n, columns] = input.shape;
    if (input.shape.length !== 2 || columns !== nFeatures) {
      throw new ModelServerError(
        ErrorCode.InvalidRequest,
        `input '${input.name}' must have shape [N, ${nFeatures}] ` +
          `(${this.features.join(', ')}), got [${input.shape.join(', ')}]`,
      );
    }
    const data = input.data as Float32Array | Float64Array;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) {
      const row = Array.from(data.subarray(i * nFeatures, (i + 1) * nFeatures));
      if (!row.every(Number.isFinite)) {
        throw new ModelServerError(ErrorCode.InvalidRequest, `row ${i}: every feature must be a finite number`);
      }
      rows.push(row);
    }
    return rows;
  }

  /** Per row, the share of trees voting for each class (rows sum to 1). */
  private probabilities(rows: number[][]): number[][] {
    if (rows.length === 0) return [];
    const votes = this.forest.predictionValues(rows);
    const nClasses = this.classes.length;
    const out: number[][] = [];
    for (let i = 0; i < rows.length; i++) {
      const treeVotes = votes.getRow(i);
      const counts = new Array<number>(nClasses).fill(0);
      for (const vote of treeVotes) counts[vote]++;
      out.push(counts.map((count) => count / treeVotes.length));
    }
    return out;
  }
}

/** The one input of the request (`input-0` if several were sent). */
function pickInput(inputs: Tensor[]): Tensor {
  if (inputs.length === 1) return inputs[0];
  const named = inputs.find((t) => t.name === 'input-0');
  if (named) return named;
  throw new ModelServerError(
    ErrorCode.InvalidRequest,
    `expected one input (an [N, 4] feature matrix), got ${inputs.length}: ${inputs.map((t) => t.name).join(', ')}`,
  );
}

/** Index of the largest value (the first one on a tie). */
function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
