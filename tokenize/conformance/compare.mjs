// Compares two id streams (little-endian uint32 files) and reports the first
// divergence with context: the ids around it and the reference's decoding of
// the tokens around it, so the offending text can be found.
//
//   node compare.mjs FAMILY REFERENCE.u32 TELLTALE.u32
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FAMILIES, tokenizerPath } from './reference.mjs';

const require = createRequire(path.join(process.env.TELLTALE_NPM_DIR || process.cwd(), 'package.json'));

function load(p) {
  const b = readFileSync(p);
  return new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function decoder(family) {
  const f = FAMILIES[family];
  if (f.hf) {
    const { Tokenizer } = require('@anush008/tokenizers');
    const tok = Tokenizer.fromFile(tokenizerPath(family));
    return async (ids) => tok.decode(Array.from(ids), false);
  }
  const { get_encoding } = require('tiktoken');
  const enc = get_encoding(f.tiktoken);
  return async (ids) => new TextDecoder().decode(enc.decode(new Uint32Array(ids)));
}

const [family, refPath, ttPath] = process.argv.slice(2);
const ref = load(refPath);
const tt = load(ttPath);
let i = 0;
const n = Math.min(ref.length, tt.length);
while (i < n && ref[i] === tt[i]) i++;
if (i === ref.length && i === tt.length) {
  console.log(`${family}: OK ${ref.length} tokens identical`);
  process.exit(0);
}
const dec = await decoder(family);
const lo = Math.max(0, i - 8);
const show = (a) => Array.from(a.subarray(lo, Math.min(a.length, i + 8))).join(' ');
console.log(`${family}: MISMATCH at token ${i} (reference has ${ref.length} tokens, telltale ${tt.length})`);
console.log(`  reference ids[${lo}..]: ${show(ref)}`);
console.log(`  telltale  ids[${lo}..]: ${show(tt)}`);
console.log(`  reference text: ${JSON.stringify(await dec(ref.subarray(lo, Math.min(ref.length, i + 8))))}`);
console.log(`  telltale  text: ${JSON.stringify(await dec(tt.subarray(lo, Math.min(tt.length, i + 8))))}`);
process.exit(1);
