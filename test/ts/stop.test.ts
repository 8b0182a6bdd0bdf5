/**
 * StopMatcher: text arriving in pieces, stop strings found across them and
 * never emitted, held-back text released once it cannot start a stop string.
 */
import { describe, expect, it } from 'vitest';

import { StopMatcher } from '../../ts/generation/stop.js';

function run(stops: string[], pieces: string[]): { out: string[]; stopped: boolean } {
  const m = new StopMatcher(stops);
  const out = pieces.map((p) => m.push(p));
  if (!m.stopped) out.push(m.flush());
  return { out, stopped: m.stopped };
}

describe('StopMatcher', () => {
  it('finds a stop string split over pieces and emits only the text before it', () => {
    const r = run(['END'], ['abc E', 'N', 'D more']);
    expect(r.stopped).toBe(true);
    expect(r.out.join('')).toBe('abc ');
    expect(r.out).toEqual(['abc ', '', '']);
  });
  it('releases held text as soon as it cannot start a stop string', () => {
    const r = run(['END'], ['a E', 'x', 'EN', 'y']);
    expect(r.stopped).toBe(false);
    expect(r.out).toEqual(['a ', 'Ex', '', 'ENy', '']);
  });
  it('the earliest of several stop strings wins; overlapping prefixes are held', () => {
    expect(run(['world', 'lo w'], ['hel', 'lo world']).out.join('')).toBe('hel');
    expect(run(['aab'], ['a', 'a', 'a', 'b']).out.join('')).toBe('a');
    expect(run(['\n\n'], ['line\n', '\nnext']).out.join('')).toBe('line');
  });
  it('a stop string at the very start gives no text; empty stop strings are ignored', () => {
    expect(run(['Once'], ['Once upon']).out.join('')).toBe('');
    expect(run([''], ['abc']).out.join('')).toBe('abc');
  });
  it('text held at the end comes out on flush', () => {
    expect(run(['</s>'], ['done </'])).toEqual({ out: ['done ', '</'], stopped: false });
  });
});
