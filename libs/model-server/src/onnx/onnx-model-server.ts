import { InferenceSession, type Tensor as OrtTensor } from 'onnxruntime-node';
import { versionLabel } from '../errors/version-label.util';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import { ModelServer } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { OutputTensor } from '../model/tensor.interface';
import { readOnnxSettings } from './onnx-session-options.util';
import { describeValues, fromOrtTensor, toOrtTensor, type OrtValueSpec } from './onnx-tensor.util';

/**
 * Serves an ONNX model with ONNX Runtime (onnxruntime-node, CPU). `load` opens `model.onnx` under the
 * model path (or `parameters.onnx.file`) with the session options of `parameters.onnx` (one intra-op and one
 * inter-op thread by default); metadata comes from the session: input and output names, datatypes, shapes
 * (-1 for dynamic dimensions). `predict` maps v2 tensors to ONNX Runtime tensors and back without copying
 * their elements (FP16 and BYTES are converted element by element), and computes only the requested outputs.
 *
 * `session.run` holds the thread for the whole run: serve it with `workers: N` so health checks and other
 * models never wait behind it, and with `maxBatchSize` to amortize each run over many requests.
 *
 * Subclass it to add pre- or post-processing: override `preprocess` / `postprocess` (they run on the main
 * thread), or `toFeeds` / `toResult` (they run where `predict` runs), and declare `inputs` / `outputs` when
 * the model's public signature differs from the graph's.
 *
 * @example
 * // models.yaml
 * // - name: mlp
 * //   module: ./mlp.model       (export class MlpModel extends OnnxModelServer {})
 * //   modelPath: ./mlp/model
 * //   workers: 1
 * //   parameters: { onnx: { intraOpNumThreads: 1 } }
 * @publicApi
 */
export class OnnxModelServer extends ModelServer {
  platform = 'onnxruntime';
  /** The open session, from `load` on. */
  protected session!: InferenceSession;
  private inputTypes = new Map<string, OrtTensor.Type>();
  private outputNames: string[] = [];

  async load(): Promise<void> {
    const label = versionLabel(this.context.name, this.context.version);
    const { file, options } = readOnnxSettings(this.context.getParam('onnx'), label);
    this.session = await InferenceSession.create(await this.context.resolveRealFile(file), this.sessionOptions(options));
    const inputs = describeValues(this.session.inputMetadata, 'input');
    if (inputs.skipped.length > 0) {
      throw new Error(`the model's inputs ${inputs.skipped.join(', ')} are not tensors; the v2 protocol sends tensors only`);
    }
    const outputs = describeValues(this.session.outputMetadata, 'output');
    if (outputs.skipped.length > 0) {
      this.context.logger.warn(`outputs ${outputs.skipped.join(', ')} are not tensors (sequences or maps) and are not served`);
    }
    this.inputTypes = new Map(inputs.tensors.map((t: OrtValueSpec) => [t.name, t.type]));
    this.outputNames = outputs.tensors.map((t) => t.name);
    this.inputs ??= inputs.tensors.map((t) => t.spec);
    this.outputs ??= outputs.tensors.map((t) => t.spec);
  }

  /** The session options, from `parameters.onnx` and the defaults; override to set others (e.g. providers). */
  protected sessionOptions(options: InferenceSession.SessionOptions): InferenceSession.SessionOptions {
    return options;
  }

  async predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const feeds = this.toFeeds(request, ctx);
    const results = await this.session.run(feeds, this.fetches(request));
    return this.toResult(results, request, ctx);
  }

  /**
   * The session outputs to compute: the requested ones the graph has, else all of them. Override when
   * `toResult` derives outputs of its own from others.
   */
  protected fetches(request: InferenceRequest): string[] {
    const requested = request.outputs;
    if (requested === undefined || requested.length === 0) return this.outputNames;
    const names = requested.map((o) => o.name).filter((name) => this.outputNames.includes(name));
    return names.length > 0 ? names : this.outputNames;
  }

  /** The session's feeds: every input of the request, by name, as an ONNX Runtime tensor. */
  protected toFeeds(request: InferenceRequest, _ctx: RequestContext): InferenceSession.FeedsType {
    const feeds: Record<string, OrtTensor> = {};
    for (const input of request.inputs) feeds[input.name] = toOrtTensor(input, this.inputTypes.get(input.name));
    return feeds;
  }

  /** The v2 result: every output the session computed, as a v2 tensor. */
  protected toResult(results: InferenceSession.ReturnType, _request: InferenceRequest, _ctx: RequestContext): InferenceResult {
    const outputs: OutputTensor[] = [];
    for (const name of Object.keys(results)) outputs.push(fromOrtTensor(name, results[name] as OrtTensor));
    return { outputs };
  }

  async unload(): Promise<void> {
    if (this.session !== undefined) await this.session.release();
  }
}
