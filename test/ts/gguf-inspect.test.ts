import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ENCODABLE_TYPES, GgufError, IoError, inspectGguf, InvalidArgumentError, LmrtError, synthModel, writeGguf,
} from '../../ts/index.js';
import { expectAgreesWithHfGguf } from './helpers/hf-gguf.js';
import { HAVE_MODELS, STORIES, VOCABS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('inspectGguf()', () => {
  describe.skipIf(!HAVE_MODELS)('agrees with @huggingface/gguf on the real models', () => {
    for (const file of [...STORIES, ...VOCABS]) {
      it(file, async () => {
        const path = modelPath(file);
        await expectAgreesWithHfGguf(path, await inspectGguf(path));
      });
    }
  });

  describe('agrees with @huggingface/gguf on synthetic files of every supported type', () => {
    for (const type of ENCODABLE_TYPES) {
      it(type, async () => {
        const path = join(tmp.dir, `agree-${type}.gguf`);
        await synthModel(path, { arch: 'llama', preset: 'tiny', type });
        await expectAgreesWithHfGguf(path, await inspectGguf(path));
      });
    }
    it('every metadata value type, nested arrays and a non-default alignment', async () => {
      const path = join(tmp.dir, 'agree-meta.gguf');
      await writeGguf(path, {
        alignment: 64,
        metadata: {
          u8: 7, i8: -7, u16: 65535, i16: -32768, u32: 4294967295, i32: -2147483648, f32: 0.5, bool: true,
          str: 'héllo', u64: 2n ** 64n - 1n, i64: -(2n ** 63n), f64: Math.PI,
          'arr.u8': new Uint8Array([1, 2]), 'arr.i16': new Int16Array([-1, 2]), 'arr.f64': new Float64Array([1.5]),
          'arr.u64': new BigUint64Array([1n, 2n ** 63n]), 'arr.bool': [true, false], 'arr.str': ['a', '', 'ç'],
          'arr.nested': [new Int32Array([1, -2]), new Int32Array([3])],
        },
        metadataTypes: { u8: 'uint8', i8: 'int8', u16: 'uint16', i16: 'int16', i32: 'int32', f32: 'float32', f64: 'float64' },
        tensors: [{ name: 'w', type: 'Q8_0', shape: [64, 2], data: { fill: 'uniform', scale: 1 } }],
      });
      const ours = await inspectGguf(path);
      expect(ours.alignment).toBe(64);
      expect(ours.metadataTypes['arr.nested']).toBe('array<array<int32>>');
      expect(ours.metadata['u64']).toBe(2n ** 64n - 1n);
      await expectAgreesWithHfGguf(path, ours);
    });
  });

  it('reads from a Uint8Array as from a file', async () => {
    const path = join(tmp.dir, 'buffer.gguf');
    await synthModel(path, { preset: 'tiny', type: 'Q4_0' });
    const fromFile = await inspectGguf(path);
    const fromBuffer = await inspectGguf(new Uint8Array(readFileSync(path)));
    expect(fromBuffer).toEqual(fromFile);
  });

  it.skipIf(!HAVE_MODELS)('reports architecture, parameters, file type and context length', async () => {
    const g = await inspectGguf(modelPath('stories260K-q4_0.gguf'));
    expect(g.architecture).toBe('llama');
    expect(g.parameterCount).toBe(260_032); // PROVENANCE.md: 260,032 parameters
    expect(g.fileType).toBe('Q4_0');
    expect(g.contextLength).toBe(512);
  });

  describe('errors', () => {
    const expectGgufError = async (bytes: Uint8Array, code: string, text: RegExp) => {
      const path = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}.gguf`);
      writeFileSync(path, bytes);
      const err = await inspectGguf(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GgufError);
      expect((err as GgufError).code).toBe(code);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toMatch(text);
    };

    it('names a wrong magic', () => expectGgufError(new TextEncoder().encode('PK\x03\x04 not gguf'), 'E_GGUF_INVALID', /not a GGUF file/));
    it('names a truncated file', async () => {
      const path = join(tmp.dir, 'whole.gguf');
      await synthModel(path, { preset: 'tiny', type: 'Q8_0' });
      const bytes = readFileSync(path);
      await expectGgufError(bytes.subarray(0, 1000), 'E_GGUF_INVALID', /truncated|claims/);
      await expectGgufError(bytes.subarray(0, bytes.length - 100), 'E_GGUF_INVALID', /past the end/);
    });
    it('names an unsupported version', () =>
      expectGgufError(new Uint8Array([0x47, 0x47, 0x55, 0x46, 1, 0, 0, 0, ...new Array(16).fill(0)]), 'E_GGUF_UNSUPPORTED', /version 1/));
    it('gives IoError for a missing file and InvalidArgumentError for bad input', async () => {
      await expect(inspectGguf(join(tmp.dir, 'missing.gguf'))).rejects.toBeInstanceOf(IoError);
      await expect(inspectGguf(tmp.dir)).rejects.toBeInstanceOf(IoError);
      await expect(inspectGguf('')).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(inspectGguf(42 as never)).rejects.toBeInstanceOf(LmrtError);
    });
  });
});
