import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { parseJsonBody } from '../../codecs/json-body.parser';
import type { WireInferenceRequest } from '../../codecs/wire-tensor.interface';
import { checkInferenceRequest } from '../../codecs/v2-json/v2-request.schema';
import { invalidRequest, textGenerationNotImplemented } from '../../errors';
import type { CallOptions } from '../../inference/call-options.interface';
import type { DataPlane } from '../../inference/data-plane';
import type { DataPlaneRequest } from '../../inference/data-plane-request';
import { jsonValueBudget } from '../../inference/request-limits';
import type { ModelCatalog } from '../../inference/model-catalog';
import type { ResponseStream } from '../../inference/response-stream';
import type { InferenceResponse } from '../../model/inference.interface';
import type { TextGeneration } from '../../model/text-generation.interface';
import { jsonAnswer, StreamedBody, type HttpAnswer } from '../http/http-answer';
import { logHttpFault } from '../http/http-status.map';
import { SSE_HEADERS, SseWriter } from '../http/sse.writer';
import type { Context } from '@opentelemetry/api';
import { startHttpServerSpan, tracedAnswer } from '../http/http-server-span';
import { completeCallOptions, passedHeaders } from '../v2/rest/rest-call-options.util';
import { openAIError, openAIErrorAnswer } from './openai-answer';
import { countWords, defaultChatPrompt, readOpenAIRequest, type OpenAIRequest } from './openai-request';

/** One call of an OpenAI route, as the Fastify route received it. @internal */
export interface OpenAICall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body's bytes, its `Content-Encoding` undone. */
  body: Buffer | undefined;
  /** The body read as JSON ({@link OpenAIEndpoint.readBody}); undefined when it was empty. */
  json?: unknown;
  /** Why the body could not be read (a corrupt gzip / deflate stream, malformed JSON...), answered as the request's error. */
  bodyError?: unknown;
  res: ServerResponse;
}

/** What one answer is made of: the request, the model's adapter, ids. */
interface Reply {
  request: OpenAIRequest;
  adapter: TextGeneration;
  id: string;
  created: number;
}

/**
 * OpenAI's completions and chat completions API over the models that opt in with a `textGeneration` adapter:
 * the adapter turns the prompt (or the chat's messages, flattened) and the settings into the model's request,
 * which runs through the data plane like any other (admission, deadline, hooks, monitoring, protocol `openai`),
 * and reads text back from each response. `stream: true` answers server-sent events in OpenAI's chunk format,
 * ending with `data: [DONE]`. Every error is answered in OpenAI's shape with the catalogue's status.
 *
 * @internal
 */
export class OpenAIEndpoint {
  private readonly logger = new Logger('OpenAI');
  /** When the models were listed first: OpenAI's `created` of a model. */
  private readonly since = Math.floor(Date.now() / 1000);

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly catalog: ModelCatalog,
    private readonly debug: boolean,
  ) {}

  /** `GET /openai/v1/models`: the ready models that take text prompts. */
  models(): HttpAnswer {
    const data: unknown[] = [];
    for (const m of this.catalog.listModels().models) {
      if (this.adapterOf(m.name) !== undefined) data.push(this.modelEntry(m.name));
    }
    return jsonAnswer(200, JSON.stringify({ object: 'list', data }));
  }

  /** `GET /openai/v1/models/:model`. */
  model(call: OpenAICall, name: string): HttpAnswer {
    try {
      this.adapter(name);
      return jsonAnswer(200, JSON.stringify(this.modelEntry(name)));
    } catch (err) {
      return this.fail(call, err, undefined);
    }
  }

  /**
   * A completion's body (its `Content-Encoding` undone) read as JSON, as the v2 routes read theirs: a large body in
   * slices, its values' estimated heap bounded by `maxJsonValueBytes` (a long prompt's characters are bounded by
   * the body limit alone). Empty: undefined.
   */
  readBody(body: Buffer | undefined): unknown {
    if (body === undefined || body.length === 0) return undefined;
    return parseJsonBody(body, { valuesOnly: true, maxValueBytes: jsonValueBudget(this.dataPlane.limits) });
  }

  /** `POST /openai/v1/completions` and `/chat/completions`. */
  async complete(call: OpenAICall, kind: 'completion' | 'chat'): Promise<HttpAnswer> {
    const route = kind === 'chat' ? '/openai/v1/chat/completions' : '/openai/v1/completions';
    const span = startHttpServerSpan(this.dataPlane.tracer, call.method, route, call.url, call.headers, call.res);
    const answer = await this.completion(call, kind, span?.context);
    return tracedAnswer(span, answer);
  }

  private async completion(call: OpenAICall, kind: 'completion' | 'chat', traceContext: Context | undefined): Promise<HttpAnswer> {
    let req: DataPlaneRequest | undefined;
    try {
      if (call.bodyError !== undefined) throw call.bodyError;
      const request = readOpenAIRequest(kind, call.json);
      const adapter = this.adapter(request.model);
      if (request.messages !== undefined) {
        request.input.prompt = adapter.chatPrompt !== undefined ? adapter.chatPrompt(request.messages) : defaultChatPrompt(request.messages);
        if (request.input.prompt.trim() === '') throw invalidRequest('the messages give the model no prompt (no user message with text)');
      }
      const wire = checkInferenceRequest(adapter.request(request.input)) as WireInferenceRequest;
      const options: CallOptions = { protocol: 'openai' };
      const passed = passedHeaders(call.headers);
      if (passed !== undefined) options.headers = passed;
      if (traceContext !== undefined) options.traceContext = traceContext;
      req = this.dataPlane.begin('infer', request.model, undefined, completeCallOptions(options, call.headers, call.res));
      const reply: Reply = { request, adapter, id: '', created: Math.floor(Date.now() / 1000) };
      if (!request.stream) {
        const response = await req.run(wire);
        reply.id = idOf(kind, response.id);
        return jsonAnswer(200, JSON.stringify(this.whole(reply, response)));
      }
      const parts = await req.stream(wire);
      reply.id = idOf(kind, parts.id);
      return this.streamed(call, reply, parts);
    } catch (err) {
      return this.fail(call, err, req);
    }
  }

  /** The one answer of a request without `stream`. */
  private whole({ request, adapter, id, created }: Reply, response: InferenceResponse): Record<string, unknown> {
    const text = adapter.text(response);
    const finish = adapter.finishReason?.(response) ?? 'stop';
    const usage = usageOf(adapter, request.input.prompt, text);
    const choice =
      request.kind === 'chat'
        ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }
        : { index: 0, text, logprobs: null, finish_reason: finish };
    return { id, object: request.kind === 'chat' ? 'chat.completion' : 'text_completion', created, model: request.model, choices: [choice], usage };
  }

  /** Server-sent events: a chunk per part with text, a last chunk with the finish reason, the usage if asked, `[DONE]`. */
  private streamed(call: OpenAICall, reply: Reply, parts: ResponseStream): HttpAnswer {
    return {
      status: 200,
      headers: { ...SSE_HEADERS },
      body: new StreamedBody(async (res) => {
        const sse = new SseWriter(res);
        const { request, adapter } = reply;
        const chat = request.kind === 'chat';
        let text = '';
        let last: InferenceResponse | undefined;
        try {
          if (chat) await sse.send(chunk(reply, { role: 'assistant', content: '' }, null));
          for await (const part of parts) {
            last = part;
            const piece = adapter.text(part);
            if (piece === '') continue;
            text += piece;
            const sent = sse.send(chunk(reply, chat ? { content: piece } : piece, null));
            if (sent !== undefined) await sent;
          }
          const finish = (last === undefined ? undefined : adapter.finishReason?.(last)) ?? 'stop';
          await sse.send(chunk(reply, chat ? {} : '', finish));
          if (request.includeUsage) {
            const object = chat ? 'chat.completion.chunk' : 'text_completion';
            await sse.send(JSON.stringify({ id: reply.id, object, created: reply.created, model: request.model, choices: [], usage: usageOf(adapter, request.input.prompt, text) }));
          }
          await sse.send('[DONE]');
        } catch (err) {
          logHttpFault(this.logger, call.method, call.url, err);
          await sse.send(openAIError(err, this.debug).body);
        } finally {
          sse.end();
        }
      }),
    };
  }

  /** The model's adapter: 404 for an unknown model or one without, 503 while it is not ready. */
  private adapter(name: string): TextGeneration {
    const adapter = this.dataPlane.readyVersion(name, undefined).instance.textGeneration;
    if (adapter === undefined) throw textGenerationNotImplemented(name);
    return adapter;
  }

  private adapterOf(name: string): TextGeneration | undefined {
    try {
      return this.adapter(name);
    } catch {
      return undefined;
    }
  }

  private modelEntry(name: string): Record<string, unknown> {
    return { id: name, object: 'model', created: this.since, owned_by: 'nest-model-server' };
  }

  private fail(call: OpenAICall, err: unknown, req: DataPlaneRequest | undefined): HttpAnswer {
    req?.refuse(err);
    logHttpFault(this.logger, call.method, call.url, err);
    return openAIErrorAnswer(err, this.debug);
  }
}

function idOf(kind: 'completion' | 'chat', requestId: string): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${requestId}`;
}

/** One chunk of a stream: chat's `delta` or completion's `text`. */
function chunk({ request, id, created }: Reply, delta: string | Record<string, unknown>, finish: string | null): string {
  const choice = typeof delta === 'string' ? { index: 0, text: delta, logprobs: null, finish_reason: finish } : { index: 0, delta, logprobs: null, finish_reason: finish };
  return JSON.stringify({ id, object: request.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model: request.model, choices: [choice] });
}

function usageOf(adapter: TextGeneration, prompt: string, text: string): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const count = (t: string) => (adapter.countTokens !== undefined ? adapter.countTokens(t) : countWords(t));
  const promptTokens = count(prompt);
  const completionTokens = count(text);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}
