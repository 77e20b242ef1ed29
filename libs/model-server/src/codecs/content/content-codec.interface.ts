import { Buffer } from 'node:buffer';
import type { Datatype } from '../../model/datatype';
import type { InferenceResponse } from '../../model/inference.interface';
import type { MaybePromise } from '../../model/model-server';
import type { TensorSpec } from '../../model/tensor.interface';
import type { WireInferenceRequest } from '../wire-tensor.interface';

/** The parameters of a media type (`text/csv; header=present` → `{ header: 'present' }`), names lower case. @publicApi */
export type MediaTypeParams = Readonly<Record<string, string>>;

/**
 * What a body carried: `v2`, a whole v2 inference request (answered in kind), or `rows`, bare values for the
 * model's one input (answered with bare values).
 *
 * @publicApi
 */
export type ContentFormat = 'v2' | 'rows';

/** The input a rows-style body fills. @publicApi */
export interface ContentInput {
  readonly name: string;
  readonly datatype: Datatype;
  /** The declared shape (-1: any size), when the model declares its input. */
  readonly shape: readonly number[] | undefined;
  /** False when the model declares no input and `name` / `datatype` are defaults (`input-0`, FP32). */
  readonly declared: boolean;
  /**
   * True when the values sent decide the datatype (an undeclared input, for a transport that asks for it, such as
   * KServe v1): numbers INT64 or FP64, strings BYTES, booleans BOOL. `datatype` is then what codecs that cannot
   * tell (CSV, NPY has its own) use.
   */
  readonly inferDatatype?: boolean;
}

/** The model a body is decoded for. @publicApi */
export interface ContentTarget {
  readonly model: string;
  /** The model's declared inputs ([] when it declares none). */
  readonly inputs: readonly TensorSpec[];
  /**
   * The input bare values go to: the model's only (or only required) declared input, else `input-0` FP32 when it
   * declares none; undefined when it declares several (then only a v2 request can address them).
   */
  readonly input: ContentInput | undefined;
  /**
   * Most bytes the decoded tensors of the body may take (the server's `maxTensorBytes`): a codec takes each
   * tensor's size from a `TensorBudget` of this many bytes before it allocates, so an oversized body is a 413
   * before memory is spent on it.
   */
  readonly maxTensorBytes: number;
  /**
   * Most bytes of memory a large JSON body's values outside tensor data may take once built, estimated before any
   * is built (the server's `maxJsonValueBytes`; its default when absent). Codecs that build no JSON ignore it.
   */
  readonly maxJsonValueBytes?: number;
}

/** A decoded body. @publicApi */
export interface DecodedContent {
  readonly request: WireInferenceRequest;
  readonly format: ContentFormat;
}

/** How a response is to be written. @publicApi */
export interface EncodeContext {
  /** The media type chosen from `Accept` (one of the codec's). */
  readonly mediaType: string;
  /** Parameters of the matching `Accept` entry (e.g. `header=present` for CSV). */
  readonly params: MediaTypeParams;
  /** What the request carried; JSON answers a v2 request with a v2 response and rows with `{"predictions": ...}`. */
  readonly format: ContentFormat;
}

/**
 * Reads request bodies of some media types into v2 requests and writes v2 responses back in them. A codec is a
 * Nest provider: mark the class with `@ContentCodecProvider()` and list it in any module's providers; the
 * {@link ContentCodecRegistry} collects it at boot. A codec of yours replaces a built-in one for the media types
 * and directions (decode / encode) it implements.
 *
 * Decoding problems are the client's: throw `ModelServerError(ErrorCode.InvalidRequest, ...)` (400). A response
 * that cannot be written in the type throws `ErrorCode.NotAcceptable` (406).
 *
 * @example
 * @ContentCodecProvider()
 * @Injectable()
 * export class TsvCodec implements ContentCodec {
 *   readonly mediaTypes = ['text/tab-separated-values'];
 *   decode(body: Buffer, target: ContentTarget): DecodedContent { ... }
 * }
 * @publicApi
 */
export interface ContentCodec {
  /** The media types it handles, lower case, without parameters (e.g. `text/csv`). */
  readonly mediaTypes: readonly string[];
  /** Reads a body sent as one of {@link mediaTypes} for `target`. Leave it out for a write-only codec. */
  decode?(body: Buffer, target: ContentTarget, params: MediaTypeParams): MaybePromise<DecodedContent>;
  /** Writes a response (a string is sent as UTF-8). Leave it out for a read-only codec. */
  encode?(response: InferenceResponse, context: EncodeContext): MaybePromise<Buffer | string>;
}
