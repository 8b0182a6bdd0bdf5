/**
 * Pre-tokenizers without a real vocabulary here: a synthetic byte-level BPE
 * vocabulary (merges trained across word boundaries) is written as GGUF
 * once per tokenizer.ggml.pre name, and our ids are compared with
 * llama.cpp's (node-llama-cpp) on the same file and the same strings.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTokenizer, writeGguf } from '../../ts/index.js';
import { trainByteLevelBpe, type TrainedBpe } from './helpers/bpe-train.js';
import { llamaCpp } from './helpers/llamacpp.js';
import { tempDir } from './helpers/models.js';

const PRE_NAMES = [
  'default', 'gpt-2', 'llama-bpe', 'qwen2', 'deepseek-llm', 'deepseek-coder', 'deepseek-v3', 'falcon', 'starcoder',
  'smollm', 'gpt-4o', 'mpt', 'refact', 'command-r', 'stablelm2', 'poro-chat', 'bloom', 'viking', 'tekken', 'chameleon',
  'seed-coder', 'jina-v1-en', 'trillion', 'dbrx',
];

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

// Strings: the adversarial and random ones from the gpt-2 fixtures (their
// texts only, not llama.cpp's ids for that vocabulary) plus number and
// case patterns that separate the pre-tokenizers.
const fixture = JSON.parse(readFileSync(resolve(__dirname, '..', 'fixtures', 'tokenizer', 'gpt-2.json'), 'utf8')) as {
  cases: { text: string }[];
};
const STRINGS = [
  ...fixture.cases.map((c) => c.text),
  '1 12 123 1234 12345 123456 1234567', 'HelloWorld helloWORLD ÀÉÎõü', "I'M YOU'RE it's", 'x\r\ny\r\n\r\nz', 'a/b/c\n/',
  '<|im_start|>user\nhi<|im_end|>', '$100 +5 <=> ^~| `code`', '三四五 六七 ひらがな カタカナ 한국어',
];

const tmp = tempDir();
afterAll(tmp.cleanup);

let bpe: TrainedBpe;
beforeAll(() => {
  bpe = trainByteLevelBpe(STRINGS.slice(0, 120), 700);
});

async function writeVocab(path: string, pre: string): Promise<void> {
  // llama.cpp requires unique texts: a merge may rebuild a special token's text
  const normal = bpe.tokens.filter((t) => !SPECIALS.includes(t));
  const tokens = [...normal, ...SPECIALS];
  const types = new Int32Array(tokens.length).fill(1);
  types.fill(3, normal.length);
  await writeGguf(path, {
    metadata: {
      'general.architecture': 'llama',
      'general.name': `synthetic-${pre}`,
      // hyper-parameters llama.cpp reads even for a vocabulary-only load
      'llama.context_length': 2048, 'llama.embedding_length': 64, 'llama.block_count': 1,
      'llama.feed_forward_length': 64, 'llama.attention.head_count': 1,
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.pre': pre,
      'tokenizer.ggml.tokens': tokens,
      'tokenizer.ggml.token_type': types,
      'tokenizer.ggml.merges': bpe.merges,
      'tokenizer.ggml.bos_token_id': normal.length + 1,
      'tokenizer.ggml.eos_token_id': normal.length,
    },
    metadataTypes: { 'tokenizer.ggml.tokens': 'array<string>', 'tokenizer.ggml.merges': 'array<string>' },
  });
}

describe('pre-tokenizers on synthetic BPE vocabularies, against llama.cpp', () => {
  it('the synthetic vocabulary has merges that cross word boundaries', () => {
    expect(bpe.merges.length).toBeGreaterThan(500);
    expect(bpe.tokens.some((t) => t.startsWith('Ġ') && t.length > 2)).toBe(true);
  });

  for (const pre of PRE_NAMES) {
    it(`'${pre}': same ids as llama.cpp for ${STRINGS.length} strings, with and without parseSpecial`, async () => {
      const path = join(tmp.dir, `pre-${pre}.gguf`);
      await writeVocab(path, pre);
      const llama = await llamaCpp();
      const reference = await llama.loadModel({ modelPath: path, vocabOnly: true });
      using ours = await loadTokenizer(path);
      try {
        for (const text of STRINGS) {
          for (const parseSpecial of [false, true]) {
            const want = reference.tokenize(text, parseSpecial);
            const got = Array.from(ours.tokenize(text, { addSpecial: false, parseSpecial }));
            expect(got, `${pre} ${parseSpecial ? '(parseSpecial) ' : ''}${JSON.stringify(text)}`).toEqual(Array.from(want));
          }
          const ids = Array.from(ours.tokenize(text, { addSpecial: false }));
          expect(ours.detokenize(ids), `${pre} detokenize ${JSON.stringify(text)}`).toBe(reference.detokenize(ids as never[]));
        }
      } finally {
        await reference.dispose();
      }
    });
  }
});
