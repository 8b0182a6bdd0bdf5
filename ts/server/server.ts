/**
 * createServer: an OpenAI-compatible HTTP server over one model.
 * GET /health, GET /metrics, GET /v1/models, POST /v1/completions and
 * POST /v1/chat/completions (JSON or server-sent events). Requests share
 * the model's forward steps through its scheduler; a client that
 * disconnects aborts its generation.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

import { LmrtError } from '../errors.js';
import type { GenerateOptions, GenerationChunk, GenerationResult } from '../generation/options.js';
import { loadModel, type LoadModelOptions, type Model } from '../model/model.js';
import type { SpeculativeOptions } from '../speculative/options.js';
import { Metrics } from './metrics.js';
import {
  chatLogprobs, completionLogprobs, finishReason, HttpError, parseChat, parseCompletion, usageOf, type RequestLimits,
} from './protocol.js';

/**
 * Options of {@link createServer}.
 *
 * @example
 * ```ts
 * const server = createServer({ model: 'model.gguf', loadOptions: { maxSequences: 16 }, apiKey: process.env.API_KEY, limits: { maxTokens: 1024 } });
 * ```
 */
export interface ServerOptions {
  /** The model: loaded already, or a GGUF path to load (then `/health` says 503 until it is ready). */
  model: Model | string;
  /** Options for loading `model` when it is a path. */
  loadOptions?: LoadModelOptions;
  /** The model id /v1/models reports and responses carry (default: the file name). */
  modelName?: string;
  /** A Jinja chat template for /v1/chat/completions instead of the model's own (needed for models without one). */
  chatTemplate?: string;
  /** When set, /v1 requests need `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Largest request body in bytes (default 4 MiB; larger gets 413). */
  maxBodyBytes?: number;
  /** Per-request limits (defaults: prompts up to the KV cache's size, at most 4096 new tokens, n up to 8). */
  limits?: Partial<RequestLimits>;
  /** Where access log entries go (default: one JSON line each on standard error; `null` for none). */
  log?: ((entry: Record<string, unknown>) => void) | null;
  /** Speculative decoding for every request (e.g. `{ draft: smallModel }`); answers are unchanged by it. */
  speculative?: SpeculativeOptions;
}

/**
 * A running server; see {@link createServer}.
 *
 * @example
 * ```ts
 * const server: LmrtServer = createServer({ model });
 * const { url } = await server.listen(0); // a free port
 * process.on('SIGTERM', () => void server.close());
 * ```
 */
export interface LmrtServer {
  /** The underlying Node HTTP server. */
  readonly http: Server;
  /** Resolves once the model is loaded (rejects if loading fails). */
  readonly ready: Promise<void>;
  /** Starts listening (default 127.0.0.1:8080; port 0 picks a free one). */
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting connections, lets in-flight requests finish, then frees the model if the server loaded it. */
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Creates an OpenAI-compatible server for one model; any OpenAI client can
 * use it (`baseURL: 'http://127.0.0.1:8080/v1'`).
 *
 * @example
 * ```ts
 * const server = createServer({ model: 'model.gguf', apiKey: 'secret' });
 * const { url } = await server.listen(8080);
 * // later: await server.close();
 * ```
 */
export function createServer(options: ServerOptions): LmrtServer {
  const metrics = new Metrics();
  const log = options.log === undefined ? (e: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(e)}\n`) : options.log;
  const ownsModel = typeof options.model === 'string';
  const name = options.modelName ?? (typeof options.model === 'string' ? basename(options.model) : 'model');
  let model: Model | undefined = typeof options.model === 'string' ? undefined : options.model;
  const ready: Promise<void> = model !== undefined ? Promise.resolve() : loadModel(options.model as string, options.loadOptions).then((m) => {
    model = m;
  });
  ready.catch(() => undefined); // reported through /health and `ready`
  const created = Math.floor(Date.now() / 1000);
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;

  const limits = (m: Model): RequestLimits => ({
    maxPromptTokens: options.limits?.maxPromptTokens ?? m.kvStats.blocksTotal * m.kvStats.blockSize,
    maxTokens: options.limits?.maxTokens ?? 4096,
    maxN: options.limits?.maxN ?? 8,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), method: req.method, path };
    try {
      if (req.method === 'GET' && path === '/health') {
        if (model === undefined) return send(res, 503, { status: 'loading' });
        return send(res, 200, { status: 'ok' });
      }
      if (req.method === 'GET' && path === '/metrics') {
        const s = model?.schedulerStats, kv = model && !model.disposed ? model.kvStats : undefined;
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(metrics.render({
          waiting: s?.waiting ?? 0, running: s?.running ?? 0, kvBlocksUsed: kv?.blocksUsed ?? 0, kvBlocksFree: kv?.blocksFree ?? 0,
          prefixCacheHits: kv?.prefixHits ?? 0,
        }));
        return;
      }
      if (!path.startsWith('/v1/')) throw new HttpError(404, `no route for ${req.method} ${path}`);
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        throw new HttpError(401, 'Incorrect or missing API key: send Authorization: Bearer <key>', null, 'invalid_api_key');
      }
      if (model === undefined) throw new HttpError(503, 'the model is still loading');
      const m = model;
      if (req.method === 'GET' && path === '/v1/models') {
        return send(res, 200, { object: 'list', data: [{ id: name, object: 'model', created, owned_by: 'lmrt' }] });
      }
      if (req.method !== 'POST' || (path !== '/v1/completions' && path !== '/v1/chat/completions')) {
        throw new HttpError(404, `no route for ${req.method} ${path}`);
      }
      const body = await readJson(req, maxBody);
      // a client that goes away aborts its generation
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const usage = path === '/v1/completions'
        ? await completions(m, body, limits(m), req, res, controller.signal)
        : await chat(m, body, limits(m), req, res, controller.signal);
      Object.assign(entry, usage);
    } catch (err) {
      const e = toHttpError(err);
      entry.error = e.message;
      if (!res.headersSent) send(res, e.status, e.body());
      else res.end();
    } finally {
      entry.status = res.statusCode;
      entry.ms = Math.round(performance.now() - started);
      metrics.request(path, res.statusCode);
      log?.(entry);
    }
  }

  // One request's generations (n of them), as JSON or as a stream of chunks.
  async function generateAll(
    m: Model, prompt: number[], o: GenerateOptions & { n: number }, signal: AbortSignal, res: ServerResponse, arrived: number,
    stream: { chunk: (index: number, c: GenerationChunk) => unknown; final: (index: number, r: GenerationResult) => unknown } | undefined,
  ): Promise<GenerationResult[]> {
    const { n, ...base } = o;
    // n completions: the prompt is computed once and forked
    const runs = m.streamMany(prompt, n, { ...base, signal, ...(options.speculative ? { speculative: options.speculative } : {}) }).map((s, i) => {
      return (async () => {
        let last = 0;
        for await (const c of s) {
          const now = performance.now();
          if (c.tokens.length > 0) {
            if (last === 0) metrics.timeToFirstToken.observe((now - arrived) / 1000);
            else metrics.interTokenLatency.observe((now - last) / 1000 / c.tokens.length);
            last = now;
          }
          if (stream && c.text !== '') sse(res, stream.chunk(i, c));
        }
        const r = await s.result;
        if (stream) sse(res, stream.final(i, r));
        return r;
      })();
    });
    const results = await Promise.all(runs);
    metrics.promptTokens += prompt.length;
    metrics.generatedTokens += results.reduce((s, r) => s + r.tokens.length, 0);
    return results;
  }

  async function completions(m: Model, body: Record<string, unknown>, lim: RequestLimits, _req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    const arrived = performance.now();
    const r = parseCompletion(body, lim);
    const prompt = typeof r.prompt === 'string' ? Array.from(m.tokenize(r.prompt)) : r.prompt;
    checkPrompt(prompt, m, lim);
    const promptText = typeof r.prompt === 'string' ? r.prompt : m.detokenize(r.prompt);
    const id = `cmpl-${randomUUID()}`;
    const head = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: name };
    const piece = (t: number): string => m.tokenizer.tokenToPiece(t);
    if (r.stream) {
      startSse(res);
      if (r.echo) sse(res, { ...head, choices: Array.from({ length: r.options.n }, (_, i) => ({ index: i, text: promptText, logprobs: null, finish_reason: null })) });
      const results = await generateAll(m, prompt, r.options, signal, res, arrived, {
        chunk: (i, c) => ({ ...head, choices: [{ index: i, text: c.text, logprobs: completionLogprobs(c.logprobs, piece), finish_reason: null }] }),
        final: (i, x) => ({ ...head, choices: [{ index: i, text: '', logprobs: null, finish_reason: finishReason(x.finishReason) }] }),
      });
      if (r.includeUsage) sse(res, { ...head, choices: [], usage: usageOf(results) });
      endSse(res);
      return usageLog(results);
    }
    const results = await generateAll(m, prompt, r.options, signal, res, arrived, undefined);
    send(res, 200, {
      ...head,
      choices: results.map((x, i) => ({ index: i, text: (r.echo ? promptText : '') + x.text, logprobs: completionLogprobs(x.logprobs, piece), finish_reason: finishReason(x.finishReason) })),
      usage: usageOf(results),
    });
    return usageLog(results);
  }

  async function chat(m: Model, body: Record<string, unknown>, lim: RequestLimits, _req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    const arrived = performance.now();
    const r = parseChat(body, lim);
    const prompt = m.tokenizeChat(r.messages, {
      ...(r.tools !== undefined ? { tools: r.tools } : {}),
      ...(options.chatTemplate !== undefined ? { template: options.chatTemplate } : {}),
    });
    checkPrompt(prompt, m, lim);
    const id = `chatcmpl-${randomUUID()}`;
    const head = { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: name };
    const piece = (t: number): string => m.tokenizer.tokenToPiece(t);
    if (r.stream) {
      const chunkHead = { ...head, object: 'chat.completion.chunk' };
      startSse(res);
      for (let i = 0; i < r.options.n; ++i) sse(res, { ...chunkHead, choices: [{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      const results = await generateAll(m, prompt, r.options, signal, res, arrived, {
        chunk: (i, c) => ({ ...chunkHead, choices: [{ index: i, delta: { content: c.text }, logprobs: chatLogprobs(c.logprobs, piece), finish_reason: null }] }),
        final: (i, x) => ({ ...chunkHead, choices: [{ index: i, delta: {}, logprobs: null, finish_reason: finishReason(x.finishReason) }] }),
      });
      if (r.includeUsage) sse(res, { ...chunkHead, choices: [], usage: usageOf(results) });
      endSse(res);
      return usageLog(results);
    }
    const results = await generateAll(m, prompt, r.options, signal, res, arrived, undefined);
    send(res, 200, {
      ...head,
      choices: results.map((x, i) => ({
        index: i, message: { role: 'assistant', content: x.text, refusal: null }, logprobs: chatLogprobs(x.logprobs, piece),
        finish_reason: finishReason(x.finishReason),
      })),
      usage: usageOf(results),
    });
    return usageLog(results);
  }

  const http = createHttpServer((req, res) => {
    void handle(req, res);
  });
  let owned = ownsModel;
  return {
    http,
    ready,
    listen(port = 8080, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          const a = http.address() as AddressInfo;
          resolve({ host: a.address, port: a.port, url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` });
        });
      });
    },
    async close() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
      });
      if (owned) {
        owned = false;
        await ready.catch(() => undefined);
        model?.dispose();
      }
    },
  };
}

function checkPrompt(prompt: number[], m: Model, lim: RequestLimits): void {
  if (prompt.length === 0) throw new HttpError(400, 'the prompt is empty', 'prompt');
  if (prompt.length > lim.maxPromptTokens) {
    throw new HttpError(400, `the prompt has ${prompt.length} tokens; this server takes at most ${lim.maxPromptTokens}`, 'messages', 'context_length_exceeded');
  }
  for (const t of prompt) if (t >= m.info.vocabSize) throw new HttpError(400, `token id ${t} is not in the vocabulary (${m.info.vocabSize})`, 'prompt');
}

function usageLog(results: GenerationResult[]): Record<string, unknown> {
  const u = usageOf(results);
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, finish: results.map((r) => r.finishReason) };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof LmrtError) {
    if (err.code === 'E_INVALID_ARGUMENT') return new HttpError(400, err.message, null, 'invalid_value');
    if (err.code === 'E_KV_FULL') return new HttpError(400, err.message, null, 'context_length_exceeded');
    return new HttpError(500, err.message, null, err.code);
  }
  return new HttpError(500, err instanceof Error ? err.message : String(err));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, JSON_HEADERS);
  res.end(JSON.stringify(body));
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function sse(res: ServerResponse, data: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function endSse(res: ServerResponse): void {
  if (!res.writableEnded && !res.destroyed) res.end('data: [DONE]\n\n');
}

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, `the request body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `the request body is over the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}
