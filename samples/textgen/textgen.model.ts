import { setTimeout as sleep } from 'node:timers/promises';
import {
  ByteStrings,
  ErrorCode,
  ModelServer,
  ModelServerError,
  type InferenceRequest,
  type InferenceResponse,
  type InferenceResult,
  type RequestContext,
  type TensorSpec,
  type TextGeneration,
} from 'nest-model-server';
import { NGramModel, seededRandom } from './ngram';

const MAX_TOKENS = 1024;
const MAX_DELAY_MS = 60_000;
const MAX_STOPS = 4;

/** What one request asks of the generator, checked. */
interface Settings {
  prompt: string;
  maxTokens: number;
  temperature: number;
  seed: number;
  stop: string[];
  delayMs: number;
}

/**
 * A small generative model: a word-level trigram model (bigram and word-frequency back-off) built at load from a
 * public-domain text (`parameters.corpus` under the model path; the sample ships the opening of Lewis Carroll's
 * "Alice's Adventures in Wonderland", 1865). It continues `text_input` one word per step, streaming each word as
 * `text_output` (`predictStream`), waiting `delay_ms` before each (default: the `token_delay_ms` config
 * parameter) and stopping at once when the request's signal fires. The same `seed` gives the same text.
 *
 * Request parameters: `max_tokens` (1..1024, default the `max_tokens` config parameter or 32), `temperature`
 * (0..2, default 1; 0 always takes the most frequent next word), `seed` (default random), `stop` (a string or up
 * to 4; the text ends before the first one, which is never sent), `delay_ms`. The last part carries
 * `finish_reason` (`length` or `stop`) in its parameters. It opts into the OpenAI-compatible routes with
 * {@link textGeneration}.
 */
export class TextGenModel extends ModelServer {
  inputs: TensorSpec[] = [{ name: 'text_input', datatype: 'BYTES', shape: [1] }];
  outputs: TensorSpec[] = [{ name: 'text_output', datatype: 'BYTES', shape: [1] }];
  private ngram: NGramModel | undefined;

  readonly textGeneration: TextGeneration = {
    request: (input) => ({
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: [input.prompt] }],
      parameters: withoutUndefined({ max_tokens: input.maxTokens, temperature: input.temperature, seed: input.seed, stop: input.stop }),
    }),
    text: textOf,
    finishReason: (response) => {
      const reason = response.parameters?.finish_reason;
      return typeof reason === 'string' ? reason : undefined;
    },
    // The model continues text: a chat continues the last thing the user said.
    chatPrompt: (messages) => messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
  };

  async load(): Promise<void> {
    const corpus = this.context.parameters.corpus ?? 'alice-down-the-rabbit-hole.txt';
    if (typeof corpus !== 'string') throw new Error('parameters.corpus must be a file name under the model path');
    this.ngram = NGramModel.fromText((await this.context.readFile(corpus)).toString('utf8'));
  }

  validate(request: InferenceRequest): void {
    this.settings(request);
  }

  async *predictStream(request: InferenceRequest, ctx: RequestContext): AsyncIterable<InferenceResult> {
    const s = this.settings(request);
    const ngram = this.ngram!;
    const random = seededRandom(s.seed);
    const context = s.prompt.split(/\s+/).filter((w) => w.length > 0);
    let before = context.at(-2);
    let last = context.at(-1);
    let sent = '';
    let pending = '';
    for (let i = 0; i < s.maxTokens; i++) {
      if (s.delayMs > 0) await sleep(s.delayMs, undefined, { signal: ctx.signal });
      if (ctx.signal.aborted) return;
      const word = ngram.next(before, last, random, s.temperature);
      before = last;
      last = word;
      pending += ` ${word}`;
      const whole = sent + pending;
      const stopAt = firstStop(whole, s.stop);
      if (stopAt >= 0) {
        yield part(whole.slice(sent.length, stopAt), 'stop');
        return;
      }
      const held = heldBack(pending, s.stop);
      const out = pending.slice(0, pending.length - held);
      const final = i === s.maxTokens - 1 && held === 0;
      if (out.length > 0) {
        yield part(out, final ? 'length' : undefined);
        sent += out;
        pending = pending.slice(out.length);
        if (final) return;
      }
    }
    yield part(pending, 'length');
  }

  /** The request's prompt and settings, or a 400 saying what is wrong. */
  private settings(request: InferenceRequest): Settings {
    const input = request.inputs.find((t) => t.name === 'text_input');
    const data = input?.data;
    const prompt = data instanceof ByteStrings && data.length > 0 ? data.text(0) : '';
    if (prompt.trim() === '') refuse('text_input must be a non-empty prompt');
    const p = request.parameters ?? {};
    const param = <T>(name: string, fallback: T): unknown => p[name] ?? this.context.parameters[name] ?? fallback;
    const maxTokens = param('max_tokens', 32);
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1 || (maxTokens as number) > MAX_TOKENS) refuse(`max_tokens must be an integer from 1 to ${MAX_TOKENS}`, 'max_tokens');
    const temperature = p.temperature ?? 1;
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 2)) refuse('temperature must be a number from 0 to 2', 'temperature');
    const seed = p.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isSafeInteger(seed)) refuse('seed must be an integer', 'seed');
    const stop = p.stop === undefined || p.stop === null ? [] : typeof p.stop === 'string' ? [p.stop] : p.stop;
    if (!Array.isArray(stop) || stop.length > MAX_STOPS || stop.some((x) => typeof x !== 'string' || x === '')) {
      refuse(`stop must be a non-empty string or a list of up to ${MAX_STOPS} of them`, 'stop');
    }
    const delayMs = p.delay_ms ?? this.context.parameters.token_delay_ms ?? 0;
    if (typeof delayMs !== 'number' || !(delayMs >= 0 && delayMs <= MAX_DELAY_MS)) refuse(`delay_ms must be a number of milliseconds from 0 to ${MAX_DELAY_MS}`, 'delay_ms');
    return { prompt, maxTokens: maxTokens as number, temperature, seed: seed as number, stop: stop as string[], delayMs: delayMs as number };
  }
}

/** A 400 naming the parameter at fault (the OpenAI routes' error body carries it as `param`). */
function refuse(message: string, param?: string): never {
  throw new ModelServerError(ErrorCode.InvalidRequest, message, { param });
}

function part(text: string, finishReason: 'length' | 'stop' | undefined): InferenceResult {
  const result: InferenceResult = { outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: [text] }] };
  if (finishReason !== undefined) result.parameters = { finish_reason: finishReason };
  return result;
}

/** The text of a response's `text_output`. */
function textOf(response: InferenceResponse): string {
  const out = response.outputs.find((t) => t.name === 'text_output');
  return out !== undefined && out.data instanceof ByteStrings && out.data.length > 0 ? out.data.text(0) : '';
}

/** Where the first stop sequence starts in `text`, or -1. */
function firstStop(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** How many characters at the end of `text` could be the start of a stop sequence (held back until known). */
function heldBack(text: string, stops: readonly string[]): number {
  let held = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > held; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return held;
}

function withoutUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
