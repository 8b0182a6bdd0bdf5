/**
 * The OpenAI-compatible server, through the official `openai` client
 * against a real listening server: completions, chat completions,
 * streaming, stop, n=2, an aborted stream, 401 without the key, 4xx for bad
 * bodies; and /health, /v1/models, /metrics.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer, loadModel, type LmrtServer, type Model } from '../../ts/index.js';
import { HAVE_MODELS, modelPath } from './helpers/models.js';

const KEY = 'test-key';
const TEMPLATE = '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}';
let model: Model;
let server: LmrtServer;
let url = '';
let client: OpenAI;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  if (!HAVE_MODELS) return;
  model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, maxSequences: 8 });
  server = createServer({ model, modelName: 'stories', apiKey: KEY, chatTemplate: TEMPLATE, log: (e) => logs.push(e) });
  url = (await server.listen(0)).url;
  client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  model?.dispose();
});

describe.skipIf(!HAVE_MODELS)('OpenAI-compatible server', () => {
  it('GET /health and /v1/models', async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['stories']);
  });

  it('completions: the greedy text the library gives, with usage', async () => {
    const want = await model.generate('Once upon a time', { maxTokens: 24 });
    const r = await client.completions.create({ model: 'stories', prompt: 'Once upon a time', max_tokens: 24, temperature: 0 });
    expect(r.choices[0]!.text).toBe(want.text);
    expect(r.choices[0]!.finish_reason).toBe(want.finishReason === 'length' ? 'length' : 'stop');
    expect(r.usage).toMatchObject({ prompt_tokens: want.usage.promptTokens, completion_tokens: want.tokens.length });
  });

  it('chat completions, plain and streamed (with the usage chunk), agree', async () => {
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    const want = await model.chat(messages, { template: TEMPLATE, maxTokens: 24 });
    const r = await client.chat.completions.create({ model: 'stories', messages, max_completion_tokens: 24, temperature: 0 });
    expect(r.choices[0]!.message).toMatchObject({ role: 'assistant', content: want.text });
    const stream = await client.chat.completions.create({
      model: 'stories', messages, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(want.text);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ prompt_tokens: want.usage.promptTokens, completion_tokens: want.tokens.length });
  });

  it('stop strings and n=2 with a seed', async () => {
    const full = await model.generate('Once upon a time', { maxTokens: 40 });
    const stop = full.text.slice(10, 14);
    const r = await client.completions.create({ model: 'stories', prompt: 'Once upon a time', max_tokens: 40, temperature: 0, stop: [stop] });
    expect(r.choices[0]!.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(r.choices[0]!.finish_reason).toBe('stop');
    const two = await client.completions.create({ model: 'stories', prompt: 'Once upon a time', max_tokens: 20, temperature: 1, seed: 5, n: 2 });
    expect(two.choices.map((c) => c.index)).toEqual([0, 1]);
    const first = await model.generate('Once upon a time', { maxTokens: 20, temperature: 1, seed: 5 });
    const second = await model.generate('Once upon a time', { maxTokens: 20, temperature: 1, seed: 6 });
    expect(two.choices.map((c) => c.text)).toEqual([first.text, second.text]);
    expect(two.usage!.completion_tokens).toBe(first.tokens.length + second.tokens.length);
  });

  it('a stream the client aborts stops its generation and frees its KV blocks', async () => {
    const controller = new AbortController();
    const body = { model: 'stories', prompt: 'Once upon a time', max_tokens: 480, temperature: 0, stream: true as const, ignore_eos: true };
    const stream = await client.completions.create(body, { signal: controller.signal });
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        void chunk;
        if (++chunks === 3) controller.abort();
      }
    } catch (err) {
      expect((err as Error).name).toMatch(/Abort/);
    }
    expect(chunks).toBeLessThan(20);
    for (let i = 0; i < 200 && model.kvStats.blocksUsed > 0; ++i) await new Promise((r) => setTimeout(r, 10));
    expect(model.kvStats.blocksUsed).toBe(0);
    expect(model.schedulerStats.running).toBe(0);
    for (let i = 0; i < 100 && !logs.some((l) => Array.isArray(l.finish) && (l.finish as string[])[0] === 'abort'); ++i) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const entry = logs.find((l) => Array.isArray(l.finish) && (l.finish as string[])[0] === 'abort');
    expect(entry, 'the server logged the generation as aborted').toBeDefined();
    expect(entry!.completion_tokens as number).toBeLessThan(480);
  });

  it('401 without the API key; 4xx in OpenAI error JSON for bad requests', async () => {
    const anonymous = new OpenAI({ apiKey: 'wrong', baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(anonymous.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(client.completions.create({ model: 'stories', prompt: 'x', temperature: 5 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(client.chat.completions.create({ model: 'stories', messages: [] })).rejects.toMatchObject({ status: 400, param: 'messages' });
    await expect(client.completions.create({ model: 'stories', prompt: 'x', max_tokens: 100000 })).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
    const long = 'Once upon a time '.repeat(400);
    await expect(client.completions.create({ model: 'stories', prompt: long })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    const post = (body: string, headers: Record<string, string> = {}) => fetch(`${url}/v1/completions`, {
      method: 'POST', body, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    });
    const notJson = await post('{not json');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/not valid JSON/) } });
    expect((await post(JSON.stringify({ prompt: 'x'.repeat(5 * 1024 * 1024) }))).status).toBe(413);
    const missing = await fetch(`${url}/v1/nothing`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('/metrics reports requests, tokens and the KV cache; access logs are JSON entries', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/lmrt_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+/);
    expect(text).toMatch(/lmrt_generated_tokens_total [1-9]\d*/);
    expect(text).toMatch(/lmrt_kv_blocks_used 0/);
    expect(text).toMatch(/lmrt_time_to_first_token_seconds_count [1-9]/);
    expect(logs.some((l) => l.path === '/v1/completions' && l.status === 200 && typeof l.ms === 'number')).toBe(true);
  });
});

describe.skipIf(!HAVE_MODELS)('a server with a draft model', () => {
  it('answers exactly as without it, streamed or not, for concurrent requests', async () => {
    using target = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, maxSequences: 4 });
    using draft = await loadModel(modelPath('stories260K-q4_0.gguf'), { threads: 2, contextSize: 16 });
    const spec = createServer({ model: target, speculative: { draft }, log: null });
    const base = (await spec.listen(0)).url;
    try {
      const c = new OpenAI({ apiKey: 'none', baseURL: `${base}/v1`, maxRetries: 0 });
      const prompts = ['Once upon a time', 'Lily and Ben', 'The cat sat'];
      const want = await Promise.all(prompts.map((p) => target.generate(p, { maxTokens: 40 })));
      const got = await Promise.all(prompts.map((p) => c.completions.create({ model: 'x', prompt: p, max_tokens: 40, temperature: 0 })));
      got.forEach((r, i) => expect(r.choices[0]!.text).toBe(want[i]!.text));
      let streamed = '';
      for await (const chunk of await c.completions.create({ model: 'x', prompt: prompts[0]!, max_tokens: 40, temperature: 0, stream: true })) {
        streamed += chunk.choices[0]?.text ?? '';
      }
      expect(streamed).toBe(want[0]!.text);
    } finally {
      await spec.close();
    }
  });
});
