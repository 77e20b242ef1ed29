import { ModelServer } from 'nest-model-server';
import type { InferenceRequest, InferenceResponse, InferenceResult, ModelCallRequest, RequestContext } from 'nest-model-server';

/**
 * A pipeline of models served beside it, each step called in-process through the data plane (`ctx.infer`): the
 * request goes to the first step, the outputs of each step are the inputs of the next (by name), and the last
 * step's outputs are the answer. Each call gets the step's own checks, hooks, monitoring record and metrics, and
 * the request's deadline; there is no HTTP hop. `parameters.trace` in the answer lists the steps with their times.
 *
 * Parameters: `steps`, the model names in order (at least two).
 */
export class SequencePipeline extends ModelServer {
  platform = 'pipeline';
  private steps: string[] = [];

  load(): void {
    const steps = this.context.getParam<unknown>('steps');
    if (!Array.isArray(steps) || steps.length < 2 || !steps.every((s) => typeof s === 'string' && s !== '')) {
      throw new Error(`parameters.steps must list at least two model names, got ${JSON.stringify(steps)}`);
    }
    if (steps.includes(this.context.name)) throw new Error('a pipeline cannot be one of its own steps');
    this.steps = steps as string[];
  }

  async predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    let next: ModelCallRequest = { id: request.id, inputs: request.inputs };
    if (request.parameters !== undefined) next.parameters = request.parameters;
    let response: InferenceResponse | undefined;
    const trace: { step: string; ms: number }[] = [];
    for (const step of this.steps) {
      const started = performance.now();
      response = await ctx.infer(step, next);
      trace.push({ step, ms: Math.round((performance.now() - started) * 1000) / 1000 });
      next = { id: request.id, inputs: response.outputs };
    }
    return { outputs: response!.outputs, parameters: { trace } };
  }
}
