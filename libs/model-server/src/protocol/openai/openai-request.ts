import { clip } from '../../errors/clip.util';
import { invalidParameter, invalidRequest } from '../../errors';
import type { ChatMessage, TextGenerationInput } from '../../model/text-generation.interface';

/** A completions or chat completions request, checked. @internal */
export interface OpenAIRequest {
  kind: 'completion' | 'chat';
  model: string;
  /** The settings; the prompt is the chat's once the model's adapter flattened the messages. */
  input: TextGenerationInput;
  /** The chat's messages (chat requests only). */
  messages: ChatMessage[] | undefined;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with the usage. */
  includeUsage: boolean;
}

const MAX_STOPS = 4;

/**
 * Checks a `POST /openai/v1/completions` or `/chat/completions` body as OpenAI's API defines it, for what this
 * server serves: one choice (`n` 1), text prompts, `max_tokens` (or `max_completion_tokens`), `temperature`,
 * `stop`, `seed`, `stream` and `stream_options`. Fields it does not use are ignored; a wrong value is a 400
 * naming the field.
 *
 * @internal
 */
export function readOpenAIRequest(kind: 'completion' | 'chat', body: unknown): OpenAIRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw invalidParameter('model', '"model" must name a model (GET /openai/v1/models lists them)');
  const input: TextGenerationInput = { prompt: '' };
  let messages: ChatMessage[] | undefined;
  if (kind === 'completion') input.prompt = prompt(b.prompt);
  else messages = chatMessages(b.messages);
  const tokensField = b.max_completion_tokens !== undefined && b.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = b[tokensField];
  if (maxTokens !== undefined && maxTokens !== null) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) throw invalidParameter(tokensField, `"${tokensField}" must be an integer of at least 1`);
    input.maxTokens = maxTokens as number;
  }
  if (b.temperature !== undefined && b.temperature !== null) {
    if (typeof b.temperature !== 'number' || !(b.temperature >= 0 && b.temperature <= 2)) throw invalidParameter('temperature', '"temperature" must be a number from 0 to 2');
    input.temperature = b.temperature;
  }
  if (b.seed !== undefined && b.seed !== null) {
    if (!Number.isSafeInteger(b.seed)) throw invalidParameter('seed', '"seed" must be an integer');
    input.seed = b.seed as number;
  }
  if (b.stop !== undefined && b.stop !== null) input.stop = stops(b.stop);
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw invalidParameter('n', '"n" must be 1: this server returns one choice per request');
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw invalidParameter('stream', '"stream" must be true or false');
  const options = b.stream_options;
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) throw invalidParameter('stream_options', '"stream_options" must be an object');
  const includeUsage = (options as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  return { kind, model: b.model, input, messages, stream: b.stream === true, includeUsage };
}

function prompt(value: unknown): string {
  const text = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof text !== 'string') throw invalidParameter('prompt', '"prompt" must be a string (or a list of one string)');
  if (text.trim() === '') throw invalidParameter('prompt', '"prompt" is empty');
  return text;
}

function chatMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidParameter('messages', '"messages" must be a non-empty list of {"role", "content"}');
  return value.map((m: unknown, i) => {
    if (typeof m !== 'object' || m === null) throw invalidParameter(`messages[${i}]`, `messages[${i}] must be an object with "role" and "content"`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || role === '') throw invalidParameter(`messages[${i}].role`, `messages[${i}].role must be a string`);
    return { role, content: messageText(content, i) };
  });
}

/** A message's content: a string, or a list of parts of which the text ones are joined. */
function messageText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      const p = part as { type?: unknown; text?: unknown } | null;
      if (p === null || typeof p !== 'object' || p.type !== 'text' || typeof p.text !== 'string') {
        throw invalidParameter(`messages[${i}].content`, `messages[${i}].content: only text parts ({"type": "text", "text": ...}) are served, not ${clip(JSON.stringify(p?.type ?? null))}`);
      }
      text += p.text;
    }
    return text;
  }
  if (content === null || content === undefined) return '';
  throw invalidParameter(`messages[${i}].content`, `messages[${i}].content must be a string or a list of text parts`);
}

function stops(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length > MAX_STOPS || list.some((s) => typeof s !== 'string' || s === '')) {
    throw invalidParameter('stop', `"stop" must be a non-empty string or a list of up to ${MAX_STOPS} of them`);
  }
  return list as string[];
}

/** The default flattening of chat messages into one prompt: `role: content` lines, then `assistant:`. @internal */
export function defaultChatPrompt(messages: readonly ChatMessage[]): string {
  return `${messages.map((m) => `${m.role}: ${m.content}`).join('\n')}\nassistant:`;
}

/** The default token count of a text (usage): its whitespace-separated words. @internal */
export function countWords(text: string): number {
  let n = 0;
  for (const w of text.split(/\s+/)) if (w.length > 0) n++;
  return n;
}
