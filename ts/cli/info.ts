/** `lmrt info <file> [--json]`: a GGUF file's header. */
import { inspectGguf, type GgufFile } from '../gguf/inspect.js';
import { humanBytes, humanCount, previewValue, toJsonValue } from './format.js';
import type { CliIo } from './io.js';

export const INFO_HELP = `Usage: lmrt info <file.gguf> [--json]

Prints a GGUF file's architecture, parameter count, file type, context
length, metadata and tensor table. --json prints
{architecture, metadata, tensors: [{name, type, shape, offset}], ...}.`;

/** The --json document. */
export function infoJson(path: string, g: GgufFile): unknown {
  return {
    file: path,
    architecture: g.architecture ?? null,
    version: g.version,
    alignment: g.alignment,
    dataOffset: g.dataOffset,
    fileSize: g.fileSize,
    parameterCount: g.parameterCount,
    fileType: g.fileType ?? null,
    contextLength: g.contextLength ?? null,
    metadataTypes: g.metadataTypes,
    metadata: Object.fromEntries(Object.entries(g.metadata).map(([k, v]) => [k, toJsonValue(v)])),
    tensors: g.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, offset: t.offset, byteLength: t.byteLength })),
  };
}

function infoText(path: string, g: GgufFile): string {
  const lines = [
    `file:           ${path} (${humanBytes(g.fileSize)})`,
    `architecture:   ${g.architecture ?? '(none)'}`,
    `name:           ${String(g.metadata['general.name'] ?? '(none)')}`,
    `parameters:     ${humanCount(g.parameterCount)} (${g.parameterCount.toLocaleString('en-US')})`,
    `file type:      ${g.fileType ?? '(not given)'}`,
    `context length: ${g.contextLength ?? '(not given)'}`,
    `gguf:           version ${g.version}, alignment ${g.alignment}, tensor data at byte ${g.dataOffset}`,
    '',
    `metadata (${Object.keys(g.metadata).length}):`,
  ];
  for (const [key, value] of Object.entries(g.metadata)) {
    lines.push(`  ${key} (${g.metadataTypes[key]}) = ${previewValue(value)}`);
  }
  lines.push('', `tensors (${g.tensors.length}):`);
  const nameWidth = Math.max(4, ...g.tensors.map((t) => t.name.length));
  const rows = g.tensors.map((t) => [t.name.padEnd(nameWidth), t.type.padEnd(7), `[${t.shape.join(', ')}]`.padEnd(18),
    String(t.offset).padStart(12), humanBytes(t.byteLength).padStart(11)].join('  '));
  lines.push(`  ${'name'.padEnd(nameWidth)}  ${'type'.padEnd(7)}  ${'shape'.padEnd(18)}  ${'offset'.padStart(12)}  ${'size'.padStart(11)}`);
  for (const r of rows) lines.push(`  ${r}`);
  return lines.join('\n');
}

export async function runInfo(args: { positionals: string[]; json: boolean }, io: CliIo): Promise<number> {
  const path = args.positionals[0];
  if (path === undefined || args.positionals.length > 1) {
    io.err(INFO_HELP);
    return 2;
  }
  const g = await inspectGguf(path);
  io.out(args.json ? JSON.stringify(infoJson(path, g), null, 2) : infoText(path, g));
  return 0;
}
