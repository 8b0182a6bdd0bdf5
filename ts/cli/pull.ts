/** `lmrt pull <url | hf:owner/repo/file.gguf>`: download a model into the cache. */
import { pullModel } from '../pull/pull.js';
import { UsageError, type Command } from './command.js';
import { progressBar } from './progress.js';

export const pullCommand: Command = {
  name: 'pull',
  usage: 'lmrt pull <url | hf:owner/repo/file.gguf> [options]',
  summary: 'download a model into the cache (resumes, verifies)',
  description: `Downloads a model into the cache folder (LMRT_CACHE_DIR, else
~/.cache/lmrt/models) with a progress bar and prints its path. An
interrupted download resumes where it stopped; the size is checked against
the server's and the SHA-256 when known (Hugging Face gives it, or --sha256).
A file under the final name is always complete.`,
  flags: [
    { name: 'cache-dir', value: 'dir', help: 'the cache folder' },
    { name: 'sha256', value: 'hex', help: 'the expected SHA-256 of the file' },
    { name: 'force', short: 'f', help: 'download again even if the file is cached' },
    { name: 'retries', value: 'N', help: 'how many times to resume after a broken connection (default 3)' },
    { name: 'quiet', short: 'q', help: 'no progress bar' },
  ],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError('pull takes one source: a URL or hf:owner/repo/file.gguf');
    const source = positionals[0]!;
    const bar = values.quiet ? undefined : progressBar(io, `pulling ${source}`);
    try {
      const retries = values.retries !== undefined ? Number(values.retries) : undefined;
      const r = await pullModel(source, {
        cacheDir: values['cache-dir'] as string | undefined,
        sha256: values.sha256 as string | undefined,
        force: values.force === true,
        ...(retries !== undefined ? { retries } : {}),
        ...(bar ? { onProgress: bar.update } : {}),
      });
      bar?.done();
      io.out(r.path);
      return 0;
    } finally {
      bar?.done();
    }
  },
};
