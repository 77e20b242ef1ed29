import type { InferenceResponse } from '../model/inference.interface';
import type { ModelCallOptions, ModelCallRequest } from '../model/model-caller.interface';
import type { Parameters, RequestedOutput, TensorSpec } from '../model/tensor.interface';
import type { TracingContext } from '../tracing/promise-context-manager';
import type { WorkerSpanData } from '../tracing/worker-span.interface';

/**
 * The messages between the worker pool (main thread) and a model worker thread.
 * Tensor data travels as typed arrays whose buffers are transferred, or as {@link PackedBytes} for BYTES.
 *
 * @internal
 */

/**
 * A BYTES container (`ByteStrings`) as it crosses threads: its two buffers, transferred, with element `i` at
 * `bytes[offsets[i] .. offsets[i + 1])`. @internal
 */
export interface PackedBytes {
  /** Marks the object (structured clone keeps no class to tell it by). */
  readonly packedBytesOfTensor: true;
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
}

/** A tensor in a message: `data` as a typed array, packed BYTES, or plain values. @internal */
export interface WireWorkerTensor {
  name: string;
  datatype?: string;
  shape?: number[];
  data: unknown;
  parameters?: Parameters;
}

import type { ErrorFacts } from '../errors';
export type { ErrorFacts };

/** What the worker thread needs to load its model. @internal */
export interface WorkerInit {
  modulePath: string;
  className: string;
  /** The class name the main thread serves, to catch a module that exports another class under that name. */
  expectedClassName: string;
  name: string;
  version: string | undefined;
  modelPath: string | undefined;
  parameters: Readonly<Record<string, unknown>>;
  labels: Readonly<Record<string, string>>;
  /** 1-based number of this worker, for logs. */
  index: number;
  /**
   * When the main thread traces (OpenTelemetry), how its active context follows async code: the worker does the
   * same, records the spans of traced requests and sends them back. False when it does not trace.
   */
  tracing: TracingContext | false;
}

/** The request facts a worker rebuilds its RequestContext from. @internal */
export interface ContextFacts {
  id: string;
  op: string;
  deadline: number | undefined;
  headers: Readonly<Record<string, string>> | undefined;
  depth: number;
  /** `ctx.state` as the main thread's hooks left it, when not empty. */
  state: Record<string, unknown> | undefined;
  /** The W3C `traceparent` of the span `predict` runs under, when the request is traced. */
  traceparent?: string;
}

/** Facts of the loaded model the main thread adopts (metadata, model-level metrics). @internal */
export interface LoadedFacts {
  inputs: TensorSpec[] | undefined;
  outputs: TensorSpec[] | undefined;
  platform: string;
  metrics: Record<string, number>;
}

export type ToWorker =
  | {
      kind: 'predict';
      job: number;
      inputs: WireWorkerTensor[];
      id: string;
      parameters?: Parameters;
      outputs?: RequestedOutput[];
      moved: boolean[];
      ctx: ContextFacts;
      /** Run `predictStream`: its parts come back as `part` messages, as many ahead as `pull`s allowed. */
      stream?: boolean;
    }
  | { kind: 'abort'; job: number; reason: string }
  /** The main thread took a part of the stream: the worker may send one more. */
  | { kind: 'pull'; job: number }
  | { kind: 'call-result'; call: number; response?: InferenceResponse; error?: ErrorFacts }
  | { kind: 'unload' };

export type FromWorker =
  | { kind: 'ready'; facts: LoadedFacts }
  | { kind: 'load-failed'; error: ErrorFacts }
  | {
      kind: 'result';
      job: number;
      outputs: WireWorkerTensor[];
      parameters?: Parameters;
      /** The inputs whose buffers were moved to the worker, moved back (null for the others). */
      returned: unknown[];
      metrics: Record<string, number> | null;
      statistics: Parameters | null;
      state: Record<string, unknown> | undefined;
      /** The spans that ended in the worker since its last answer (traced requests only). */
      spans?: WorkerSpanData[];
    }
  | { kind: 'failed'; job: number; error: ErrorFacts; returned: unknown[]; spans?: WorkerSpanData[] }
  /** One part of a stream (`predictStream`); the stream ends with `result` (no outputs) or `failed`. */
  | { kind: 'part'; job: number; outputs: WireWorkerTensor[]; parameters?: Parameters }
  | { kind: 'call'; job: number; call: number; name: string; request: ModelCallRequest; options?: ModelCallOptions }
  | { kind: 'log'; level: 'log' | 'warn' | 'error' | 'debug'; message: string }
  | { kind: 'unloaded'; error?: ErrorFacts };
