/**
 * Tokenizers against llama.cpp: its own test vectors for 10 vocabularies,
 * and fixtures of random and adversarial strings that llama.cpp (through
 * node-llama-cpp) tokenized (bench/tokenizer-fixtures.mjs).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GgufError, InvalidArgumentError, loadTokenizer, writeGguf, type Tokenizer } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'tokenizer');
const VECTOR_VOCABS = ['llama-spm', 'phi-3', 'gpt-2', 'falcon', 'mpt', 'starcoder', 'refact', 'deepseek-coder', 'deepseek-llm', 'bert-bge'];

interface Fixture {
  vocab: string;
  cases: { text: string; ids: number[]; idsParseSpecial: number[]; detokenized: string }[];
}

const tmp = tempDir();
afterAll(tmp.cleanup);

describe.skipIf(!HAVE_MODELS)('Tokenizer#tokenize() against llama.cpp', () => {
  describe("llama.cpp's test vectors (tokenize(text, addSpecial: false))", () => {
    const counts: string[] = [];
    afterAll(() => console.log(`tokenizer vectors passed:\n${counts.join('\n')}`));
    for (const name of VECTOR_VOCABS) {
      it(name, async () => {
        const base = modelPath(`vocab/ggml-vocab-${name}.gguf`);
        const inputs = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n').slice(0, -1);
        const outputs = readFileSync(`${base}.out`, 'utf8').split('\n').slice(0, inputs.length);
        expect(inputs.length).toBe(46);
        using tok = await loadTokenizer(base);
        let passed = 0;
        for (const [i, input] of inputs.entries()) {
          const want = outputs[i]!.trim() === '' ? [] : outputs[i]!.trim().split(/\s+/).map(Number);
          expect(Array.from(tok.tokenize(input, { addSpecial: false })), `${name} case ${i}: ${JSON.stringify(input)}`).toEqual(want);
          ++passed;
        }
        counts.push(`  ${name.padEnd(15)} ${passed}/${inputs.length}`);
      });
    }
  });

  describe('random and adversarial strings (fixtures from llama.cpp)', () => {
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    it('cover every vocabulary and the SentencePiece model', () => {
      expect(fixtures.length).toBe(11);
    });
    for (const file of fixtures) {
      describe(file.replace('.json', ''), () => {
        const fixture = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Fixture;
        let tok: Tokenizer;
        beforeAll(async () => {
          tok = await loadTokenizer(modelPath(fixture.vocab));
        });
        afterAll(() => tok.dispose());

        it('same ids, with and without parseSpecial', () => {
          for (const c of fixture.cases) {
            expect(Array.from(tok.tokenize(c.text, { addSpecial: false })), JSON.stringify(c.text)).toEqual(c.ids);
            expect(Array.from(tok.tokenize(c.text, { addSpecial: false, parseSpecial: true })), JSON.stringify(c.text))
              .toEqual(c.idsParseSpecial);
          }
        });

        it('same detokenized text; round-trips wherever llama.cpp does', () => {
          let roundTrips = 0;
          for (const c of fixture.cases) {
            const text = tok.detokenize(c.ids);
            expect(text, JSON.stringify(c.text)).toBe(c.detokenized);
            if (c.detokenized === c.text) {
              expect(tok.detokenize(tok.tokenize(c.text, { addSpecial: false }))).toBe(c.text);
              ++roundTrips;
            }
          }
          expect(roundTrips).toBeGreaterThan(0);
        });

        it('streaming detokenization: always a prefix of the final text, same text at the end', () => {
          for (const c of fixture.cases) {
            const ids = Array.from(tok.tokenize(c.text));
            const oneShot = tok.detokenize(ids);
            const stream = tok.createStreamingDetokenizer();
            let text = '';
            for (const id of ids) {
              text += stream.push(id);
              expect(oneShot.startsWith(text), `${JSON.stringify(c.text)} after ${JSON.stringify(text)}`).toBe(true);
            }
            text += stream.flush();
            expect(text).toBe(oneShot);
          }
        });
      });
    }
  });
});

describe('Tokenizer errors and edge cases', () => {
  it.skipIf(!HAVE_MODELS)('rejects out-of-range ids with InvalidArgumentError', async () => {
    using tok = await loadTokenizer(modelPath('stories260K-q8_0.gguf'));
    expect(() => tok.detokenize([1, 512])).toThrow(InvalidArgumentError);
    expect(() => tok.detokenize([1, 512])).toThrow(/512 at index 1 is out of range \(the vocabulary has 512 tokens\)/);
    expect(() => tok.detokenize([-1])).toThrow(InvalidArgumentError);
    expect(() => tok.tokenToPiece(100000)).toThrow(InvalidArgumentError);
    expect(() => tok.detokenize([1.5])).toThrow(/not a 32-bit integer/);
  });

  it.skipIf(!HAVE_MODELS)('treats invalid UTF-8 as llama.cpp does', async () => {
    // BPE decodes an invalid byte to U+FFFD before splitting
    using bpe = await loadTokenizer(modelPath('vocab/ggml-vocab-gpt-2.gguf'));
    const invalid = new Uint8Array([0x61, 0xff, 0x62, 0xc3]);
    expect(Array.from(bpe.tokenize(invalid))).toEqual(Array.from(bpe.tokenize('a\ufffdb\ufffd')));
    // SentencePiece falls back to byte tokens for bytes it has no piece for
    using spm = await loadTokenizer(modelPath('stories260K-f32.gguf'));
    const ids = Array.from(spm.tokenize(new Uint8Array([0xff]), { addSpecial: false }));
    expect(ids.map((i) => spm.tokenToBytes(i))).toContainEqual(new Uint8Array([0xff]));
  });

  it.skipIf(!HAVE_MODELS)('parseSpecial matches control-token texts only when asked', async () => {
    using tok = await loadTokenizer(modelPath('vocab/ggml-vocab-gpt-2.gguf'));
    expect(Array.from(tok.tokenize('<|endoftext|>', { parseSpecial: true }))).toEqual([50256]);
    expect(tok.tokenize('<|endoftext|>').length).toBeGreaterThan(1);
    expect(tok.tokenToPiece(50256)).toBe('<|endoftext|>');
    expect(tok.tokenToPiece(50256, { special: false })).toBe('');
  });

  it.skipIf(!HAVE_MODELS)('exposes special ids and adds BOS as the metadata says', async () => {
    using tok = await loadTokenizer(modelPath('stories260K-f32.gguf'));
    expect(tok.type).toBe('spm');
    expect(tok.vocabSize).toBe(512);
    expect(tok.specialTokens).toMatchObject({ bos: 1, eos: 2, unk: 0 });
    expect(tok.tokenize('Hi')[0]).toBe(1);
    expect(tok.tokenize('Hi', { addSpecial: false })[0]).not.toBe(1);
    expect(tok.endOfGenerationTokens).toContain(2);
  });

  it('names a missing tokenizer, an unsupported model and an unknown pre-tokenizer', async () => {
    const none = join(tmp.dir, 'no-tokenizer.gguf');
    await writeGguf(none, { metadata: { 'general.architecture': 'llama' } });
    await expect(loadTokenizer(none)).rejects.toThrow(/no tokenizer/);
    const t5 = join(tmp.dir, 't5.gguf');
    await writeGguf(t5, { metadata: { 'tokenizer.ggml.model': 't5', 'tokenizer.ggml.tokens': ['a'] } });
    await expect(loadTokenizer(t5)).rejects.toThrow(/tokenizer model 't5' is not supported/);
    const pre = join(tmp.dir, 'pre.gguf');
    await writeGguf(pre, {
      metadata: { 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'no-such-pre', 'tokenizer.ggml.tokens': ['a', 'b'],
        'tokenizer.ggml.merges': ['a b'] },
    });
    const err = await loadTokenizer(pre).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GgufError);
    expect((err as Error).message).toMatch(/unknown pre-tokenizer 'no-such-pre'/);
  });

  it.skipIf(!HAVE_MODELS)('refuses use after dispose', async () => {
    const tok = await loadTokenizer(modelPath('stories260K-f32.gguf'));
    tok.dispose();
    expect(tok.disposed).toBe(true);
    expect(() => tok.tokenize('x')).toThrow(/disposed/);
  });
});
