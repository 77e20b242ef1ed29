import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  ModelServer,
  ModelServerError,
  type InferenceRequest,
  type InferenceResult,
  type RequestContext,
} from 'nest-model-server';

const MAX_DELAY_MS = 10 * 60 * 1000;

/**
 * Echoes its inputs after `parameters.delay_ms` milliseconds (default: the `delay_ms` config parameter, else 0),
 * and stops waiting as soon as the request's signal fires (deadline passed or client gone).
 * For trying deadlines, cancellation, backpressure and graceful shutdown.
 */
export class SlowModel extends ModelServer {
  async predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const delay = request.parameters?.delay_ms ?? this.context.getParam<number>('delay_ms', 0);
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || delay > MAX_DELAY_MS) {
      throw new ModelServerError(ErrorCode.InvalidRequest, `parameters.delay_ms must be a number of milliseconds from 0 to ${MAX_DELAY_MS}`);
    }
    if (delay > 0) await sleep(delay, undefined, { signal: ctx.signal });
    return {
      outputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })),
      parameters: { delayed_ms: delay },
    };
  }
}
