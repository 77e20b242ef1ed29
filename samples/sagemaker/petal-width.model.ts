import { ErrorCode, ModelServer, ModelServerError } from 'nest-model-server';
import type { InferenceRequest, InferenceResponse, InferenceResult, ModelCallRequest } from 'nest-model-server';
import type { BatchStrategy, SageMakerHooks, SageMakerOutput } from 'nest-model-server/sagemaker';

/** The file `train.js` writes under the model path (`/opt/ml/model` in a SageMaker container). */
interface LinearModelFile {
  target: string;
  features: string[];
  intercept: number;
  coefficients: number[];
  r2: number;
}

/**
 * A model written the SageMaker Inference Toolkit way, with its hook functions only:
 *
 * | toolkit | here |
 * | --- | --- |
 * | `model_fn(model_dir)` | `load()`: reads `model.json` from the model path |
 * | `input_fn(body, content_type)` | `input(body, contentType)`: CSV rows or JSON `{"features": [[...]]}` |
 * | `predict_fn(data, model)` | `predict(request)`: the linear model |
 * | `output_fn(prediction, accept)` | `output(response, accept)`: CSV lines or JSON `{"predictions": [...]}` |
 * | `ping_fn` (J.P. Morgan inference-server) | `ping()` |
 * | Batch Transform hooks | `batchStrategy`, `maxPayloadInMB`, `maxConcurrentTransforms` |
 *
 * It predicts an Iris flower's petal width (cm) from its sepal length, sepal width and petal length.
 */
export class PetalWidthModel extends ModelServer implements SageMakerHooks {
  platform = 'linear-regression';
  batchStrategy: BatchStrategy = 'MULTI_RECORD';
  maxPayloadInMB = 6;
  maxConcurrentTransforms = 4;
  private model: LinearModelFile | undefined;

  /** model_fn */
  async load(): Promise<void> {
    const file = await this.context.readJson<LinearModelFile>('model.json');
    if (file.coefficients.length !== file.features.length || !file.coefficients.every(Number.isFinite) || !Number.isFinite(file.intercept)) {
      throw new Error('model.json does not hold one finite coefficient per feature; rerun samples/sagemaker/train.js');
    }
    this.model = file;
    this.context.setMetric('r2', file.r2);
  }

  /** ping_fn: healthy once the coefficients are loaded. */
  ping(): boolean {
    return this.model !== undefined;
  }

  /** input_fn: CSV rows (`5.1,3.5,1.4`) or JSON (`{"features": [[5.1, 3.5, 1.4]]}` or bare rows). */
  input(body: Buffer, contentType: string): ModelCallRequest {
    const type = contentType.split(';')[0].trim().toLowerCase();
    let rows: unknown;
    if (type === 'text/csv') {
      rows = body
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => line.split(',').map((field) => Number(field.trim())));
    } else if (type === 'application/json') {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      rows = Array.isArray(parsed) ? parsed : (parsed as { features?: unknown })?.features;
    } else {
      throw new ModelServerError(ErrorCode.UnsupportedMediaType, `this model reads text/csv or application/json, not '${type}'`);
    }
    const width = this.model!.features.length;
    if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) && r.length === width && r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw new Error(`send rows of ${width} numbers (${this.model!.features.join(', ')})`);
    }
    return { inputs: [{ name: 'features', datatype: 'FP64', shape: [rows.length, width], data: (rows as number[][]).flat() }] };
  }

  /** predict_fn */
  predict(request: InferenceRequest): InferenceResult {
    const { intercept, coefficients } = this.model!;
    const x = request.inputs[0];
    if (x === undefined || x.shape.length !== 2 || x.shape[1] !== coefficients.length || (x.datatype !== 'FP64' && x.datatype !== 'FP32')) {
      throw new ModelServerError(ErrorCode.InvalidRequest, `send one FP64 tensor [N, ${coefficients.length}] of ${this.model!.features.join(', ')}`);
    }
    const data = x.data as Float64Array | Float32Array;
    const rows = x.shape[0];
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let v = intercept;
      for (let j = 0; j < coefficients.length; j++) v += coefficients[j] * data[i * coefficients.length + j];
      y[i] = Math.round(v * 1e4) / 1e4;
    }
    return { outputs: [{ name: this.model!.target, datatype: 'FP64', shape: [rows], data: y }] };
  }

  /** output_fn: CSV (one prediction per line) when accepted first, else JSON. */
  output(response: InferenceResponse, accept: string): SageMakerOutput {
    const predictions = Array.from(response.outputs[0].data as Float64Array);
    const wanted = accept.split(',').map((part) => part.split(';')[0].trim().toLowerCase());
    for (const type of wanted) {
      if (type === 'text/csv') return { body: predictions.join('\n') + '\n', contentType: 'text/csv' };
      if (type === 'application/json' || type === '*/*' || type === 'application/*') {
        return { body: JSON.stringify({ predictions }), contentType: 'application/json' };
      }
    }
    throw new ModelServerError(ErrorCode.NotAcceptable, `this model answers text/csv or application/json, not ${accept}`);
  }
}
