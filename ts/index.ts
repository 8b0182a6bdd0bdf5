/**
 * lmrt: an LLM inference engine for Node.js.
 *
 * This entry point exports the public API only.
 * @module
 */
export {
  LmrtError, InvalidArgumentError, IoError, GgufError, CancelledError, NativeUnavailableError, BackendError,
  type LmrtErrorCode,
} from './errors.js';
export { inspectGguf, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf/inspect.js';
export { writeGguf, type WriteGgufOptions, type GgufTensorSpec, type GgufTensorFill } from './gguf/write.js';
export {
  GGML_TYPES, ENCODABLE_TYPES, FILE_TYPES, GGUF_VALUE_TYPES, ggmlTypeName, parseGgmlType,
  type GgmlType, type EncodableType, type GgufValueType, type GgufScalarType,
} from './gguf/types.js';
export { measureMemoryBandwidth, type BandwidthOptions } from './machine.js';
export { runtimeInfo, type RuntimeInfo } from './runtime.js';
export {
  quantizeModel, QUANTIZE_PRESETS, type QuantizePreset, type QuantizeOptions, type QuantizeResult, type QuantizedTensor,
} from './quantize/quantize.js';
export { measurePerplexity, type PerplexityOptions, type PerplexityResult } from './quality/perplexity.js';
export { synthModel, type SynthOptions, type SynthResult } from './synth/synth.js';
export { SYNTH_PRESETS, type SynthArch, type SynthShape } from './synth/presets.js';
export {
  loadTokenizer, Tokenizer, type TokenizeOptions, type DetokenizeOptions, type SpecialTokenIds,
} from './tokenizer/tokenizer.js';
export { StreamingDetokenizer } from './tokenizer/stream.js';
export {
  loadModel, Model, type LoadModelOptions, type KvCacheType, type Backend, type ChatOptions, type ModelInfo, type KvStats, type SchedulerStats,
} from './model/model.js';
export type { GenerateOptions, GenerationResult, GenerationChunk, FinishReason } from './generation/options.js';
export type { SpeculativeOptions, PromptLookupOptions, DraftModelOptions } from './speculative/options.js';
export { GenerationStream } from './generation/stream.js';
export { Sampler, type SamplingOptions, type ResolvedSamplingOptions, type TokenLogprob } from './sampling/chain.js';
export { renderChatTemplate, type ChatMessage, type ChatTemplateInput } from './chat/template.js';
export { pullModel, type PullOptions, type PullResult } from './pull/pull.js';
export { parseModelSource, defaultCacheDir, type ModelSource } from './pull/source.js';
export { createServer, type ServerOptions, type LmrtServer } from './server/server.js';
export type { RequestLimits } from './server/protocol.js';
