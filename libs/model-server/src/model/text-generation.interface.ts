import type { InferenceResponse } from './inference.interface';
import type { ModelCallRequest } from './model-caller.interface';

/** One message of a chat (OpenAI's `messages`). @publicApi */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
}

/** What a client asked a text generator for, whatever API it came through. @publicApi */
export interface TextGenerationInput {
  /** The prompt (completions), or the chat's messages flattened by {@link TextGeneration.chatPrompt}. */
  prompt: string;
  /** Most tokens to generate, if the client set it. */
  maxTokens?: number;
  /** Sampling temperature, if the client set it. */
  temperature?: number;
  /** Sequences that end the text (not included in it). */
  stop?: string[];
  /** Seed of the sampler, for a reproducible answer. */
  seed?: number;
}

/**
 * How a generative model takes text requests from the OpenAI-compatible API (`/openai/v1/completions`,
 * `/openai/v1/chat/completions`): a model opts in by setting `textGeneration` on its class. The framework calls
 * the model's own `predictStream` (or `predict`) with the request built here and reads text back from each
 * response, so the model keeps one request shape for every route.
 *
 * @example
 * textGeneration: TextGeneration = {
 *   request: (input) => ({ inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: [input.prompt] }],
 *                          parameters: { max_tokens: input.maxTokens, seed: input.seed } }),
 *   text: (response) => (response.outputs[0].data as ByteStrings).text(0),
 * };
 * @publicApi
 */
export interface TextGeneration {
  /** The model's request for a prompt and the client's settings. */
  request(input: TextGenerationInput): ModelCallRequest;
  /** The text in one response (one chunk of a stream, or the whole answer). */
  text(response: InferenceResponse): string;
  /** Why the text ended, read from the last response (`stop`, `length`...); default `stop`. */
  finishReason?(response: InferenceResponse): string | undefined;
  /** The chat's messages as one prompt (default: `role: content` lines, then `assistant:`). */
  chatPrompt?(messages: readonly ChatMessage[]): string;
  /** How many tokens a text counts for `usage` (default: its whitespace-separated words). */
  countTokens?(text: string): number;
}
