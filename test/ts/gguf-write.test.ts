import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { GgufError, inspectGguf, InvalidArgumentError, IoError, writeGguf } from '../../ts/index.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('writeGguf()', () => {
  it('infers value types and honours metadataTypes', async () => {
    const path = join(tmp.dir, 'infer.gguf');
    await writeGguf(path, {
      metadata: { a: 1, b: -1, c: 0.25, d: 10000, e: 2n ** 40n, f: 'x', g: true, h: ['p', 'q'], i: [1, 2], j: [0.5] },
      metadataTypes: { d: 'float32' },
    });
    const g = await inspectGguf(path);
    expect(g.metadataTypes).toEqual({
      a: 'uint32', b: 'int32', c: 'float32', d: 'float32', e: 'uint64', f: 'string', g: 'bool',
      h: 'array<string>', i: 'array<uint32>', j: 'array<float32>',
    });
    expect(g.metadata['d']).toBe(10000);
    expect(Array.from(g.metadata['i'] as Uint32Array)).toEqual([1, 2]);
  });

  it('round-trips a file: inspect, then write the same metadata and raw tensor bytes back', async () => {
    const a = join(tmp.dir, 'a.gguf');
    await writeGguf(a, {
      metadata: { 'general.architecture': 'llama', v: new Float32Array([1, 2]), n: [new Uint8Array([1]), new Uint8Array([])] },
      metadataTypes: { n: 'array<array<uint8>>' },
      tensors: [
        { name: 'q', type: 'Q4_K', shape: [256, 2], data: { fill: 'uniform', scale: 1, seed: 5 } },
        { name: 'f', type: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
      ],
    });
    const g = await inspectGguf(a);
    const bytes = readFileSync(a);
    const b = join(tmp.dir, 'b.gguf');
    await writeGguf(b, {
      metadata: g.metadata,
      metadataTypes: g.metadataTypes,
      tensors: g.tensors.map((t) => ({
        name: t.name, type: t.type as 'F32', shape: t.shape,
        data: new Uint8Array(bytes.subarray(g.dataOffset + t.offset, g.dataOffset + t.offset + t.byteLength)),
      })),
    });
    expect(readFileSync(b).equals(bytes)).toBe(true);
  });

  it('reports progress up to the total', async () => {
    const seen: [number, number][] = [];
    await writeGguf(join(tmp.dir, 'progress.gguf'), {
      tensors: [
        { name: 'a', type: 'F16', shape: [64, 64], data: { fill: 'constant', value: 1 } },
        { name: 'b', type: 'Q8_0', shape: [64, 64], data: { fill: 'constant', value: 1 } },
      ],
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(seen.length).toBeGreaterThan(0);
    const [done, total] = seen.at(-1)!;
    expect(done).toBe(total);
  });

  describe('errors', () => {
    it('rejects what a GGUF cannot hold, naming the key or tensor', async () => {
      const p = join(tmp.dir, 'bad.gguf');
      await expect(writeGguf(p, { metadata: { e: [] } })).rejects.toThrow(/metadata 'e'.*empty array/);
      await expect(writeGguf(p, { metadata: { k: 300 }, metadataTypes: { k: 'uint8' } })).rejects.toThrow(InvalidArgumentError);
      await expect(writeGguf(p, { tensors: [{ name: 'w', type: 'Q4_K', shape: [100], data: { fill: 'constant', value: 0 } }] }))
        .rejects.toThrow(/'w'.*not a multiple/);
      await expect(writeGguf(p, { tensors: [{ name: 'w', type: 'IQ2_XXS', shape: [256], data: { fill: 'constant', value: 0 } }] }))
        .rejects.toBeInstanceOf(GgufError);
      await expect(writeGguf(p, { tensors: [{ name: 'w', type: 'F32', shape: [4], data: new Float32Array(3) }] }))
        .rejects.toThrow(/'w'.*expected 16/);
      await expect(writeGguf(p, { tensors: [{ name: 'w', type: 'Q9' as never, shape: [4], data: new Float32Array(4) }] }))
        .rejects.toThrow(/unknown tensor type 'Q9'/);
      await expect(writeGguf(p, { alignment: 24 })).rejects.toThrow(/power of two/);
      await expect(writeGguf(join(tmp.dir, 'no-such-dir', 'x.gguf'))).rejects.toBeInstanceOf(IoError);
    });

    it('leaves no file behind when writing fails part-way', async () => {
      const p = join(tmp.dir, 'partial.gguf');
      const values = new Float32Array(64).fill(1);
      values[40] = Number.NaN;
      await expect(writeGguf(p, {
        tensors: [
          { name: 'ok', type: 'Q8_0', shape: [64], data: { fill: 'constant', value: 1 } },
          { name: 'nan', type: 'Q8_0', shape: [64], data: values },
        ],
      })).rejects.toThrow(/'nan'.*NaN/);
      expect(existsSync(p)).toBe(false);
      expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    });
  });
});
