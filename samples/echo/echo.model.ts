import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';

/**
 * Returns every input unchanged, as an output with the same name, datatype and shape.
 * Any number of inputs, any datatype and shape: the protocol's test model.
 */
export class EchoModel extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    const outputs = new Array(request.inputs.length);
    for (let i = 0; i < request.inputs.length; i++) {
      const t = request.inputs[i];
      outputs[i] = { name: t.name, datatype: t.datatype, shape: t.shape, data: t.data };
    }
    return { outputs };
  }
}
