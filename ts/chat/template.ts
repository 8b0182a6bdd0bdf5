/**
 * Chat templates: the Jinja template a model ships in its GGUF metadata
 * (`tokenizer.chat_template`), rendered with @huggingface/jinja the way
 * Hugging Face transformers renders it.
 * @module
 */
import { Template } from '@huggingface/jinja';

import { InvalidArgumentError } from '../errors.js';

/**
 * One message of a conversation. Extra fields (tool calls, names, …) reach the template as they are.
 *
 * @example
 * ```ts
 * const messages: ChatMessage[] = [
 *   { role: 'system', content: 'You are terse.' },
 *   { role: 'user', content: 'Name a colour.' },
 * ];
 * ```
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
  [field: string]: unknown;
}

/**
 * What a template is rendered with.
 *
 * @example
 * ```ts
 * const input: ChatTemplateInput = { messages: [{ role: 'user', content: 'Hi' }], bosToken: '<s>', addGenerationPrompt: true };
 * renderChatTemplate(template, input);
 * ```
 */
export interface ChatTemplateInput {
  messages: readonly ChatMessage[];
  /** End with the start of an assistant turn, for the model to continue (default `true`). */
  addGenerationPrompt?: boolean;
  /** Tool definitions, passed to the template as `tools`. */
  tools?: readonly unknown[];
  /** The texts of the model's BOS and EOS tokens (`bos_token`, `eos_token`). */
  bosToken?: string;
  eosToken?: string;
  /** Any further variables the template reads. */
  variables?: Readonly<Record<string, unknown>>;
}

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (t === undefined) {
    try {
      t = new Template(source);
    } catch (err) {
      throw new InvalidArgumentError(`chat template does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (compiled.size > 32) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidArgumentError('chat: messages must be a non-empty array');
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new InvalidArgumentError(`chat: messages[${i}] must be { role: string, content: string }`);
    }
  });
}

/**
 * Renders a chat template. Template errors (a syntax error, or the
 * template's own `raise_exception`, e.g. for roles it does not support)
 * become {@link InvalidArgumentError}s that quote the template's message.
 *
 * @example
 * ```ts
 * const chatml = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}";
 * renderChatTemplate(chatml, { messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: false });
 * // '<|im_start|>user\nHi<|im_end|>\n'
 * ```
 */
export function renderChatTemplate(source: string, input: ChatTemplateInput): string {
  if (typeof source !== 'string' || source.length === 0) throw new InvalidArgumentError('chat template must be a non-empty string');
  checkMessages(input.messages);
  const template = compile(source);
  try {
    return template.render({
      ...input.variables,
      messages: input.messages,
      add_generation_prompt: input.addGenerationPrompt ?? true,
      bos_token: input.bosToken ?? '',
      eos_token: input.eosToken ?? '',
      ...(input.tools !== undefined ? { tools: input.tools } : {}),
    });
  } catch (err) {
    throw new InvalidArgumentError(`chat template failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
