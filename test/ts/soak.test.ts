/**
 * A short soak (bench/soak.mjs for 15 seconds): an lmrt server on loopback
 * under load with random client disconnects gives no 5xx, no client errors,
 * and holds no KV blocks once the load stops. (The full five-minute run,
 * with its memory check, is `node --expose-gc bench/soak.mjs`.)
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

describe('soak', () => {
  it('15 seconds of load with random disconnects: no 5xx, no errors, no KV blocks left in use', () => {
    let out = '';
    try {
      out = execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'soak.mjs'), '--seconds', '15', '--warmup', '5', '--clients', '6'], {
        cwd: ROOT, encoding: 'utf8', timeout: 120_000,
      });
    } catch (err) {
      out = (err as { stdout?: string }).stdout ?? ''; // a failed memory check alone exits 1; the checks below decide
    }
    const last = out.trim().split('\n').at(-1)!;
    const r = JSON.parse(last) as { requests: number; ok: number; disconnected: number; status5xx: number; errors: number; kvBlocksUsed: number };
    expect(r.requests).toBeGreaterThan(50);
    expect(r.ok).toBeGreaterThan(0);
    expect(r.disconnected).toBeGreaterThan(0);
    expect(r.status5xx).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.kvBlocksUsed).toBe(0);
  }, 150_000);
});
