import { ErrorCode, ModelServer, ModelServerError } from 'nest-model-server';
import type { InferenceRequest, InferenceResult, TensorSpec } from 'nest-model-server';

/** Centimetres per unit. */
const TO_CM: Readonly<Record<string, number>> = { cm: 1, mm: 0.1, in: 2.54 };
const UNIT_NAMES: Readonly<Record<string, string>> = { cm: 'centimetres', mm: 'millimetres', in: 'inches' };

/** Iris measurements beyond this many centimetres are typos, not flowers. */
const MAX_CM = 100;

/**
 * Step 1 of the Iris pipeline: converts flower measurements from the unit in `parameters.unit` (`in`, `mm` or `cm`;
 * default `in`) to centimetres and checks that they are plausible. Its output is named `input-0`, the input of the
 * `iris` classifier, so the pipeline can pass it on as is.
 */
export class IrisUnitsModel extends ModelServer {
  inputs: TensorSpec[] = [{ name: 'measurements', datatype: 'FP32', shape: [-1, 4] }];
  outputs: TensorSpec[] = [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }];
  private factor = TO_CM.in;
  private unitName = UNIT_NAMES.in;

  load(): void {
    const unit = this.context.getParam<unknown>('unit', 'in');
    if (typeof unit !== 'string' || !(unit in TO_CM)) {
      throw new Error(`parameters.unit must be one of ${Object.keys(TO_CM).join(', ')}, got ${JSON.stringify(unit)}`);
    }
    this.factor = TO_CM[unit];
    this.unitName = UNIT_NAMES[unit];
  }

  validate(request: InferenceRequest): void {
    const x = request.inputs[0].data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const cm = x[i] * this.factor;
      if (!(cm > 0 && cm < MAX_CM)) {
        throw new ModelServerError(ErrorCode.InvalidRequest, `measurement ${i} (${x[i]}) is not a plausible flower size in ${this.unitName}`);
      }
    }
  }

  predict(request: InferenceRequest): InferenceResult {
    const x = request.inputs[0];
    const cm = new Float32Array((x.data as Float32Array).length);
    for (let i = 0; i < cm.length; i++) cm[i] = (x.data as Float32Array)[i] * this.factor;
    return { outputs: [{ name: 'input-0', datatype: 'FP32', shape: x.shape, data: cm }] };
  }
}
