#!/usr/bin/env node
// Generates test/fixtures/tokenizer/<vocab>.json: random and adversarial
// strings with the ids llama.cpp (through node-llama-cpp) gives them, with
// and without parse_special, and llama.cpp's detokenization of those ids.
// The strings are seeded, so a rerun reproduces the files unless llama.cpp
// changed. Usage: node bench/tokenizer-fixtures.mjs [--models ../shared/models]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { models: { type: 'string', default: resolve(root, '..', 'shared', 'models') } } });
const outDir = join(root, 'test', 'fixtures', 'tokenizer');
const nlcVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;

/** mulberry32, seeded: the same strings on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCRIPTS = [
  'The quick brown fox jumps over the lazy dog', "don't won't I'm you're they've we'll she'd IT'S WE'RE",
  'Съешь же ещё этих мягких французских булок', 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία', '我能吞下玻璃而不伤身体。',
  'いろはにほへと ちりぬるを', '다람쥐 헌 쳇바퀴에 타고파', 'إنني أستطيع أكل الزجاج', 'אני יכול לאכול זכוכית',
  'मैं काँच खा सकता हूँ', 'ฉันกินกระจกได้', 'Ça coûte 12,50 € — naïve café', 'ǅemal Ωmega Kelvin ℃ ﬁ ﬃ ½ ² Ⅻ',
];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇯🇵', '🏳️‍🌈', '❤️', '🤷‍♀️', '🧑🏿‍💻', '1️⃣', '©️'];
const CONTROL = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u0085', '\u200b', '\u200d', '\ufeff', '\u2028', '\u00a0', '\u3000', '\t', '\r\n', '\v', '\f'];

function randomString(rand) {
  const parts = [];
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; ++i) {
    const r = rand();
    if (r < 0.3) parts.push(SCRIPTS[Math.floor(rand() * SCRIPTS.length)].slice(0, 1 + Math.floor(rand() * 30)));
    else if (r < 0.45) parts.push(EMOJI[Math.floor(rand() * EMOJI.length)]);
    else if (r < 0.55) parts.push(CONTROL[Math.floor(rand() * CONTROL.length)]);
    else if (r < 0.65) parts.push(' '.repeat(1 + Math.floor(rand() * 6)));
    else if (r < 0.75) parts.push(String(Math.floor(rand() * 1e9)));
    else if (r < 0.85) parts.push(String.fromCodePoint(0x20 + Math.floor(rand() * 0x2fff)));
    else if (r < 0.9) parts.push(String.fromCharCode(0xd800 + Math.floor(rand() * 0x800))); // lone surrogate
    else parts.push(['\n', '\n\n', "'s", "'RE", '...', '!?', ' .', " ' ", '```js\nconst x = 1;\n```', 'https://example.com/a?b=1&c=2'][Math.floor(rand() * 10)]);
  }
  return parts.join(rand() < 0.5 ? '' : ' ');
}

function adversarial(specials) {
  return [
    '', ' ', '  ', '\n', ' \n \n', '\t\t', ' '.repeat(300), '\n'.repeat(50), '0'.repeat(257), '1234567890'.repeat(20),
    '  leading', 'trailing  ', 'a  b   c    d', "'s't're've'm'll'd", " 's 'S 'Re 'VE", 'e\u0301 \u00e9 \u0065\u0300\u0301\u0302',
    '\ud800', '\udfff abc \ud83d', 'x\u0000y', '\u200b\u200b', 'A'.repeat(200), '🙂'.repeat(40), ...SCRIPTS, ...EMOJI,
    ...CONTROL.map((c) => `a${c}b`),
    ...specials.flatMap((s) => [s, ` ${s} `, `x${s}y`, `${s}${s}`, `${s}\n${s.slice(0, -1)}`]),
  ];
}

const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
const vocabs = readdirSync(join(values.models, 'vocab')).filter((f) => f.endsWith('.gguf')).map((f) => join(values.models, 'vocab', f));
vocabs.push(join(values.models, 'stories260K-f32.gguf'));
mkdirSync(outDir, { recursive: true });
for (const [index, path] of vocabs.entries()) {
  const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
  const specials = [];
  for (const t of [model.tokens.bos, model.tokens.eos, model.tokens.eot, model.tokens.sep]) {
    if (t != null) specials.push(model.detokenize([t], true));
  }
  const rand = prng(0x5eed + index);
  const texts = [...adversarial([...new Set(specials)].filter((s) => s !== '')), ...Array.from({ length: 120 }, () => randomString(rand))];
  const cases = texts.map((text) => {
    const ids = model.tokenize(text, false);
    return {
      text,
      ids,
      idsParseSpecial: model.tokenize(text, true),
      detokenized: model.detokenize(ids, false),
    };
  });
  const name = basename(path, '.gguf').replace(/^ggml-vocab-/, '');
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify({
    vocab: path.slice(values.models.length + 1),
    generatedBy: `llama.cpp through node-llama-cpp ${nlcVersion} (bench/tokenizer-fixtures.mjs)`,
    semantics: 'ids = tokenize(text, add_special=false, parse_special=false); idsParseSpecial: parse_special=true; detokenized = detokenize(ids, remove_special=false, unparse_special=false)',
    cases,
  })}\n`);
  console.log(`${name}: ${cases.length} cases`);
  await model.dispose();
}
