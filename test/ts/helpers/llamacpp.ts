/**
 * llama.cpp (through node-llama-cpp) as the independent reference
 * implementation: load a GGUF file and read its logits.
 */
import { getLlama, type Llama } from 'node-llama-cpp';

let llama: Promise<Llama> | undefined;

/** One CPU-only llama.cpp instance per test process; never builds from source. */
export function llamaCpp(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' as never, progressLogs: false });
  return llama;
}

/**
 * Loads `modelPath` in llama.cpp, evaluates `tokens` and returns the full
 * logits row llama.cpp computes after the last one (index = token id).
 */
export async function llamaCppLastLogits(modelPath: string, tokens: number[]): Promise<Float32Array> {
  const l = await llamaCpp();
  const model = await l.loadModel({ modelPath, gpuLayers: 0 });
  try {
    const context = await model.createContext({ contextSize: 128, threads: 2, batchSize: 64 });
    try {
      const sequence = context.getSequence();
      const items = tokens.map((t, i) =>
        i === tokens.length - 1 ? ([t, { generateNext: { logits: true } }] as const) : t,
      );
      const out = await sequence.controlledEvaluate(items as never);
      const last = out[tokens.length - 1] as { next?: { logits?: Map<number, number> } } | undefined;
      const map = last?.next?.logits;
      if (map === undefined) throw new Error('llama.cpp returned no logits');
      const row = new Float32Array(map.size);
      for (const [token, logit] of map) row[token] = logit;
      return row;
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}
