import { OnnxModelServer } from 'nest-model-server/onnx';

/**
 * The `mlp` sample: an ONNX multi-layer perceptron served by ONNX Runtime. Everything comes from
 * {@link OnnxModelServer}: the session opens `model/model.onnx`, metadata comes from the graph
 * (`input` FP32 [-1, 64] → `logits` and `probabilities` FP32 [-1, 10]), tensors go to ONNX Runtime and back
 * without element copies. Served twice by samples/models.yaml: `mlp` with adaptive batching, `mlp-unbatched` without.
 */
export class MlpModel extends OnnxModelServer {}
