/**
 * `lmrt chat <model>`: an interactive conversation. Each line read is a user
 * turn; the answer streams back and joins the history. Ctrl-C stops the
 * current answer; at the prompt it (or Ctrl-D, or /exit) ends the chat.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import type { ChatMessage } from '../chat/template.js';
import { InvalidArgumentError } from '../errors.js';
import { UsageError, type Command } from './command.js';
import { MODEL_FLAGS, SAMPLING_FLAGS, generateOptionsFrom, openModel, statsLine } from './generation-flags.js';
import { writer } from './io.js';

export const chatCommand: Command = {
  name: 'chat',
  usage: 'lmrt chat <model> [options]',
  summary: 'talk with a model (its chat template), line by line',
  description: `Reads user turns line by line from the terminal (or piped standard
input) and streams each answer, keeping the conversation's history. The
prompt is rendered with the model's chat template, or --template <file>.
Ctrl-C stops the current answer; at the prompt Ctrl-C, Ctrl-D or /exit
ends the chat, and /clear forgets the history.`,
  flags: [
    { name: 'system', value: 'text', help: 'a system message to start the conversation with' },
    { name: 'template', value: 'file', help: 'a Jinja chat template to use instead of the model\'s' },
    ...SAMPLING_FLAGS,
    ...MODEL_FLAGS,
    { name: 'stats', help: 'a summary line (tokens, speed) after each answer, on standard error' },
  ],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError('chat takes one model');
    const options = generateOptionsFrom(values);
    const template = values.template !== undefined ? readFileSync(String(values.template), 'utf8') : undefined;
    using model = await openModel(positionals[0], values, io);
    if (template === undefined && model.chatTemplate === undefined) {
      throw new InvalidArgumentError(`${positionals[0]} has no chat template: pass one with --template <file>`);
    }
    const initial: ChatMessage[] = values.system !== undefined ? [{ role: 'system', content: String(values.system) }] : [];
    let history = [...initial];
    const input = io.stdin ?? process.stdin;
    const interactive = input.isTTY === true;
    const rl = createInterface({ input, ...(interactive ? { output: process.stdout, terminal: true } : {}), crlfDelay: Infinity });
    const write = writer(io);
    let answering: AbortController | undefined;
    let closed = false;
    const stop = (): void => {
      if (answering) answering.abort();
      else {
        closed = true;
        rl.close();
      }
    };
    const unhook = io.onInterrupt?.(stop);
    rl.on('SIGINT', stop); // a terminal's Ctrl-C reaches readline, not the process
    try {
      if (interactive) rl.setPrompt('> ');
      if (interactive) rl.prompt();
      for await (const raw of rl) {
        const line = raw.trim();
        if (line === '/exit' || line === '/quit') break;
        if (line === '/clear') {
          history = [...initial];
          if (interactive) rl.prompt();
          continue;
        }
        if (line === '') {
          if (interactive) rl.prompt();
          continue;
        }
        history.push({ role: 'user', content: line });
        answering = new AbortController();
        const stream = model.streamChat(history, { ...options, ...(template !== undefined ? { template } : {}), signal: answering.signal });
        for await (const chunk of stream) write(chunk.text);
        const r = await stream.result;
        answering = undefined;
        write(r.finishReason === 'abort' ? ' [stopped]\n' : '\n');
        history.push({ role: 'assistant', content: r.text });
        if (values.stats) io.err(statsLine(r));
        if (closed) break;
        if (interactive) rl.prompt();
      }
    } finally {
      unhook?.();
      rl.close();
    }
    return 0;
  },
};
