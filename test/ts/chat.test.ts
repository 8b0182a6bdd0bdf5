/**
 * Chat templates: the template families' published Jinja sources render a
 * conversation into exactly the prompt format their model cards document;
 * the real phi-3 vocabulary's own template; errors for models without one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadModel, loadTokenizer, renderChatTemplate, inspectGguf, type ChatMessage } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

interface Family {
  name: string;
  template: string;
  bos: string;
  eos: string;
  messages: ChatMessage[];
  expected: string;
}

const FIXTURE = join(__dirname, '..', 'fixtures', 'chat', 'families.json');
const families = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Family[];
const tmp = tempDir();
afterAll(tmp.cleanup);

describe('template families render their documented prompt formats', () => {
  for (const f of families) {
    it(f.name, () => {
      expect(renderChatTemplate(f.template, { messages: f.messages, bosToken: f.bos, eosToken: f.eos })).toBe(f.expected);
    });
  }

  it('without the generation prompt, the conversation ends where it ends', () => {
    const chatml = families.find((f) => f.name.startsWith('chatml'))!;
    const text = renderChatTemplate(chatml.template, { messages: chatml.messages, addGenerationPrompt: false });
    expect(text).toBe(chatml.expected.slice(0, -'<|im_start|>assistant\n'.length));
  });

  it("a template's own raise_exception and syntax errors become clear errors", () => {
    const mistral = families.find((f) => f.name.startsWith('mistral'))!;
    expect(() => renderChatTemplate(mistral.template, { messages: [{ role: 'assistant', content: 'x' }] }))
      .toThrow(/chat template failed: .*alternate/);
    expect(() => renderChatTemplate('{% for %}', { messages: [{ role: 'user', content: 'x' }] })).toThrow(/chat template does not parse/);
    expect(() => renderChatTemplate('{{ x }}', { messages: [] })).toThrow(/messages must be a non-empty array/);
    expect(() => renderChatTemplate('{{ x }}', { messages: [{ role: 'user' } as ChatMessage] })).toThrow(/messages\[0\]/);
  });

  it('tools and extra variables reach the template', () => {
    const t = '{% for tool in tools %}[{{ tool.name }}]{% endfor %}{{ today }}{{ messages[0].content }}';
    expect(renderChatTemplate(t, { messages: [{ role: 'user', content: '!' }], tools: [{ name: 'a' }, { name: 'b' }], variables: { today: 'Mon' } }))
      .toBe('[a][b]Mon!');
  });
});

describe.skipIf(!HAVE_MODELS)('templates in the real files', () => {
  it("the phi-3 vocabulary's own template gives Phi-3's documented format", async () => {
    const path = modelPath('vocab/ggml-vocab-phi-3.gguf');
    const template = (await inspectGguf(path)).metadata['tokenizer.chat_template'] as string;
    using tok = await loadTokenizer(path);
    const text = renderChatTemplate(template, {
      messages: [{ role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi there' }, { role: 'user', content: 'Who are you?' }],
      bosToken: tok.tokenToPiece(tok.specialTokens.bos!, { special: true }),
      eosToken: tok.tokenToPiece(tok.specialTokens.eos!, { special: true }),
    });
    expect(text).toBe('<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you?<|end|>\n<|assistant|>\n');
    // its control tokens come out as single tokens when the rendered prompt is tokenized
    const ids = Array.from(tok.tokenize(text, { parseSpecial: true, addSpecial: false }));
    expect(ids[0]).toBe(tok.specialTokens.bos);
    expect(ids.filter((id) => id === 32007)).toHaveLength(3); // <|end|>
  });

  it('stories260K has no template: chat says so and accepts one given', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, contextSize: 256 });
    expect(model.chatTemplate).toBeUndefined();
    expect(() => model.chat([{ role: 'user', content: 'Hi' }])).toThrow(/no chat template.*`template` option/);
    const template = '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}';
    expect(model.applyChatTemplate([{ role: 'user', content: 'Once upon a time' }], { template })).toBe('<s>Once upon a time');
    const r = await model.chat([{ role: 'user', content: 'Once upon a time' }], { template, maxTokens: 16 });
    const plain = await model.generate('Once upon a time', { maxTokens: 16 });
    // the rendered prompt starts with the BOS text: one BOS, as for the plain prompt
    expect(r.usage.promptTokens).toBe(plain.usage.promptTokens);
    expect(r.tokens).toEqual(plain.tokens);
    const chunks: string[] = [];
    const stream = model.streamChat([{ role: 'user', content: 'Once upon a time' }], { template, maxTokens: 16 });
    for await (const c of stream) chunks.push(c.text);
    expect(chunks.join('')).toBe(plain.text);
  });
});
