/** Human-readable numbers and JSON-safe metadata for the CLI. */
import type { GgufValue } from '../gguf/inspect.js';

/** 1234567 → "1.23M". */
export function humanCount(n: number): string {
  for (const [unit, size] of [['T', 1e12], ['B', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
    if (n >= size) return `${(n / size).toFixed(2)}${unit}`;
  }
  return String(n);
}

/** Bytes → "12.3 MiB". */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    ++i;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Metadata as JSON can hold it: typed arrays become arrays; 64-bit integers beyond 2^53 become strings. */
export function toJsonValue(v: GgufValue): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number | bigint>, (x) => toJsonValue(x as GgufValue));
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x as GgufValue));
  return v;
}

/** A one-line preview of a metadata value for the text table. */
export function previewValue(v: GgufValue, max = 8): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v !== 'object') return String(v);
  const items = Array.from(v as ArrayLike<GgufValue>);
  const shown = items.slice(0, max).map((x) => previewValue(x, 3)).join(', ');
  return `[${shown}${items.length > max ? `, ... (${items.length} items)` : ''}]`;
}
