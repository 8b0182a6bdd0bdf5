/**
 * The OpenAI HTTP protocol: request bodies checked and turned into
 * generation options, results turned into OpenAI's response and stream
 * chunk shapes, errors in OpenAI's error JSON.
 * @module
 */
import type { ChatMessage } from '../chat/template.js';
import type { GenerateOptions, GenerationResult, FinishReason } from '../generation/options.js';
import type { TokenLogprob } from '../sampling/chain.js';

/** An error answered with an HTTP status and OpenAI's `{ error: { message, type, param, code } }`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    const type = this.status === 401 ? 'authentication_error' : this.status === 404 ? 'not_found_error' : this.status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message: this.message, type, param: this.param, code: this.code } };
  }
}

/**
 * Limits a server applies to every request.
 *
 * @example
 * ```ts
 * createServer({ model, limits: { maxPromptTokens: 2048, maxTokens: 512, maxN: 4 } });
 * ```
 */
export interface RequestLimits {
  /** Most prompt tokens a request may have. */
  maxPromptTokens: number;
  /** Most tokens a request may ask to generate. */
  maxTokens: number;
  /** Most completions one request may ask for (`n`). */
  maxN: number;
}

type Body = Record<string, unknown>;

const bad = (message: string, param: string): HttpError => new HttpError(400, message, param, 'invalid_value');

function number(body: Body, key: string, check: (x: number) => boolean, expected: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw bad(`'${key}' must be ${expected}`, key);
  return v;
}

const int = (x: number): boolean => Number.isInteger(x);

/** Generation options from the fields the two endpoints share. */
function samplingFrom(body: Body, limits: RequestLimits, maxTokensKeys: string[]): GenerateOptions & { n: number } {
  const o: GenerateOptions = {};
  for (const key of maxTokensKeys) {
    const v = number(body, key, (x) => int(x) && x >= 0, 'a non-negative integer');
    if (v !== undefined) {
      if (v > limits.maxTokens) throw bad(`'${key}' is ${v}; this server allows at most ${limits.maxTokens}`, key);
      o.maxTokens = v;
    }
  }
  const set = <K extends keyof GenerateOptions>(k: K, v: GenerateOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('temperature', number(body, 'temperature', (x) => x >= 0 && x <= 2, 'a number from 0 to 2'));
  set('topP', number(body, 'top_p', (x) => x > 0 && x <= 1, 'a number in (0, 1]'));
  set('topK', number(body, 'top_k', (x) => int(x) && x >= 0, 'a non-negative integer'));
  set('minP', number(body, 'min_p', (x) => x >= 0 && x <= 1, 'a number from 0 to 1'));
  set('typicalP', number(body, 'typical_p', (x) => x > 0 && x <= 1, 'a number in (0, 1]'));
  set('repeatPenalty', number(body, 'repeat_penalty', (x) => x > 0, 'a positive number'));
  set('frequencyPenalty', number(body, 'frequency_penalty', (x) => x >= -2 && x <= 2, 'a number from -2 to 2'));
  set('presencePenalty', number(body, 'presence_penalty', (x) => x >= -2 && x <= 2, 'a number from -2 to 2'));
  set('seed', number(body, 'seed', (x) => int(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER, 'a non-negative integer'));
  const n = number(body, 'n', (x) => int(x) && x >= 1, 'a positive integer') ?? 1;
  if (n > limits.maxN) throw bad(`'n' is ${n}; this server allows at most ${limits.maxN}`, 'n');
  if (body.ignore_eos === true) o.ignoreEos = true; // llama.cpp's extension
  const stop = body.stop;
  if (stop !== undefined && stop !== null) {
    const list = typeof stop === 'string' ? [stop] : stop;
    if (!Array.isArray(list) || list.length > 4 || !list.every((s) => typeof s === 'string')) throw bad("'stop' must be a string or up to 4 strings", 'stop');
    o.stop = list as string[];
  }
  const bias = body.logit_bias;
  if (bias !== undefined && bias !== null) {
    if (typeof bias !== 'object' || Array.isArray(bias)) throw bad("'logit_bias' must map token ids to numbers", 'logit_bias');
    const logitBias: Record<number, number> = {};
    for (const [k, v] of Object.entries(bias as Record<string, unknown>)) {
      if (!/^\d+$/.test(k) || typeof v !== 'number' || v < -100 || v > 100) throw bad("'logit_bias' must map token ids to numbers from -100 to 100", 'logit_bias');
      logitBias[Number(k)] = v === -100 ? -Infinity : v;
    }
    o.logitBias = logitBias;
  }
  return { ...o, n };
}

/** A parsed POST /v1/completions body. */
export interface CompletionRequest {
  prompt: string | number[];
  options: GenerateOptions & { n: number };
  stream: boolean;
  includeUsage: boolean;
  echo: boolean;
}

export function parseCompletion(body: Body, limits: RequestLimits): CompletionRequest {
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') prompt = prompt[0];
  const tokens = Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t) && (t as number) >= 0);
  if (typeof prompt !== 'string' && !tokens) throw bad("'prompt' must be a string (or one string, or token ids)", 'prompt');
  const options = samplingFrom(body, limits, ['max_tokens']);
  const logprobs = number(body, 'logprobs', (x) => int(x) && x >= 0 && x <= 5, 'an integer from 0 to 5');
  if (logprobs !== undefined) options.logprobs = logprobs;
  return { prompt: prompt as string | number[], options, ...streamFields(body), echo: body.echo === true };
}

/** A parsed POST /v1/chat/completions body. */
export interface ChatRequest {
  messages: ChatMessage[];
  options: GenerateOptions & { n: number };
  stream: boolean;
  includeUsage: boolean;
  tools: unknown[] | undefined;
}

export function parseChat(body: Body, limits: RequestLimits): ChatRequest {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw bad("'messages' must be a non-empty array", 'messages');
  const parsed: ChatMessage[] = messages.map((m: unknown, i) => {
    const msg = m as Record<string, unknown>;
    if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string') throw bad(`'messages[${i}]' must have a role`, `messages[${i}]`);
    let content = msg.content;
    // content parts: the text ones, joined
    if (Array.isArray(content)) content = content.map((p: { type?: string; text?: string }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
    if (content === null || content === undefined) content = '';
    if (typeof content !== 'string') throw bad(`'messages[${i}].content' must be a string`, `messages[${i}].content`);
    return { ...msg, role: msg.role, content };
  });
  const options = samplingFrom(body, limits, ['max_tokens', 'max_completion_tokens']);
  if (body.logprobs === true) {
    options.logprobs = number(body, 'top_logprobs', (x) => int(x) && x >= 0 && x <= 20, 'an integer from 0 to 20') ?? 0;
  } else if (body.top_logprobs !== undefined && body.top_logprobs !== null) {
    throw bad("'top_logprobs' needs 'logprobs': true", 'top_logprobs');
  }
  const tools = Array.isArray(body.tools) ? body.tools : undefined;
  return { messages: parsed, options, ...streamFields(body), tools };
}

function streamFields(body: Body): { stream: boolean; includeUsage: boolean } {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad("'stream' must be a boolean", 'stream');
  const so = body.stream_options as { include_usage?: unknown } | undefined | null;
  return { stream: body.stream === true, includeUsage: so?.include_usage === true };
}

/** OpenAI's finish reasons. */
export function finishReason(r: FinishReason): 'stop' | 'length' {
  return r === 'length' ? 'length' : 'stop';
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** The usage of one or more completions of the same prompt. */
export function usageOf(results: GenerationResult[]): Usage {
  const prompt = results[0]?.usage.promptTokens ?? 0;
  const completion = results.reduce((s, r) => s + r.usage.completionTokens, 0);
  const cached = results.reduce((s, r) => Math.max(s, r.usage.cachedTokens), 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

/** Log-probabilities in the chat completions shape. */
export function chatLogprobs(lps: TokenLogprob[] | undefined, piece: (token: number) => string): { content: unknown[] } | null {
  if (lps === undefined) return null;
  const entry = (token: number, logprob: number): { token: string; logprob: number; bytes: number[] } => {
    const text = piece(token);
    return { token: text, logprob, bytes: [...Buffer.from(text, 'utf8')] };
  };
  return {
    content: lps.map((lp) => ({ ...entry(lp.token, lp.logprob), top_logprobs: lp.top.map((t) => entry(t.token, t.logprob)) })),
  };
}

/** Log-probabilities in the (legacy) completions shape. */
export function completionLogprobs(lps: TokenLogprob[] | undefined, piece: (token: number) => string): unknown {
  if (lps === undefined) return null;
  const tokens = lps.map((lp) => piece(lp.token));
  let offset = 0;
  const textOffset = tokens.map((t) => {
    const at = offset;
    offset += t.length;
    return at;
  });
  return {
    tokens,
    token_logprobs: lps.map((lp) => lp.logprob),
    top_logprobs: lps.map((lp) => Object.fromEntries(lp.top.map((t) => [piece(t.token), t.logprob]))),
    text_offset: textOffset,
  };
}
