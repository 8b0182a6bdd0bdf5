/**
 * @huggingface/gguf as the independent GGUF parser, and a comparison of its
 * view of a file with inspectGguf's.
 */
import { gguf } from '@huggingface/gguf';
import { expect } from 'vitest';

import { GGUF_VALUE_TYPES, ggmlTypeName, type GgufFile, type GgufValue } from '../../../ts/index.js';

/** hf's metadata carries the header counts as pseudo-keys. */
const HF_HEADER_KEYS = new Set(['version', 'tensor_count', 'kv_count']);

/** Plain JS arrays of numbers/bigints/strings/booleans, nested as in the file. */
function plain(v: unknown): unknown {
  // hf decodes strings with TextDecoder, which drops a leading byte-order
  // mark; the token is really U+FEFF, so compare both sides without it
  if (typeof v === 'string') return v.startsWith('\uFEFF') ? v.slice(1) : v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function typeName(id: number): string {
  return Object.entries(GGUF_VALUE_TYPES).find(([, v]) => v === id)![0];
}

/** Asserts that inspectGguf's result agrees with @huggingface/gguf on everything both report. */
export async function expectAgreesWithHfGguf(path: string, ours: GgufFile): Promise<void> {
  const hf = await gguf(path, { allowLocalFile: true, typedMetadata: true });
  expect(ours.version).toBe(hf.metadata.version);
  expect(BigInt(ours.tensors.length)).toBe(BigInt(hf.metadata.tensor_count));
  expect(BigInt(Object.keys(ours.metadata).length)).toBe(BigInt(hf.metadata.kv_count));
  expect(ours.dataOffset).toBe(Number(hf.tensorDataOffset));

  const hfKeys = Object.keys(hf.typedMetadata).filter((k) => !HF_HEADER_KEYS.has(k));
  expect(Object.keys(ours.metadata)).toEqual(hfKeys);
  for (const key of hfKeys) {
    const typed = hf.typedMetadata[key]!;
    const hfType = typed.subType === undefined ? typeName(typed.type) : `array<${typeName(typed.subType)}`;
    expect(ours.metadataTypes[key]!.startsWith(hfType), `type of ${key}`).toBe(true);
    expect(plain(ours.metadata[key] as GgufValue), `value of ${key}`).toEqual(plain(typed.value));
  }

  expect(ours.tensors.map((t) => t.name)).toEqual(hf.tensorInfos.map((t) => t.name));
  for (const [i, t] of ours.tensors.entries()) {
    const h = hf.tensorInfos[i]!;
    expect(t.type, t.name).toBe(ggmlTypeName(h.dtype));
    expect(t.shape.map(BigInt), t.name).toEqual(h.shape);
    expect(BigInt(t.offset), t.name).toBe(h.offset);
  }
}
