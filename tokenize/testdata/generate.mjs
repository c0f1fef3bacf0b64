// Regenerates the unit-test fixtures in this directory and their golden ids.
//
//   TELLTALE_NPM_DIR=<dir with the conformance references installed> \
//     node tokenize/testdata/generate.mjs
//
// Writes two small tokenizer.json files written by hand here (a byte-level
// BPE in the Llama 3 style and a SentencePiece-style BPE with byte fallback,
// both with NFC/Prepend/Replace normalizers exercised), then encodes the
// sample strings below with the reference Hugging Face tokenizers
// (@anush008/tokenizers, pinned in tokenize/conformance/package-lock.json)
// and stores ids and offsets in golden.json. The unit tests compare against
// golden.json and never need npm.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.TELLTALE_NPM_DIR || process.cwd(), 'package.json'));
const { Tokenizer } = require('@anush008/tokenizers');

// GPT-2 bytes_to_unicode.
function byteAlphabet() {
  const out = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out.push(String.fromCodePoint(printable ? b : 256 + n++));
  }
  return out;
}
const enc = (s) => Array.from(Buffer.from(s, 'utf8')).map((b) => byteAlphabet()[b]).join('');

function byteLevel() {
  const vocab = {};
  byteAlphabet().forEach((c, i) => { vocab[c] = i; });
  const merges = [];
  const add = (a, b) => {
    const m = a + b;
    if (!(m in vocab)) vocab[m] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  };
  add('h', 'e'); add('l', 'l'); add('he', 'll'); add('hell', 'o');
  add(enc(' '), 'w'); add(enc(' ') + 'w', 'o'); add('r', 'l'); add('d', '!');
  add(enc(' '), enc(' ')); add("'", 's'); add('1', '2'); add('12', '3');
  add(enc('é')[0], enc('é')[1]); add(enc('你')[0], enc('你')[1]);
  return {
    version: '1.0',
    added_tokens: [{ id: Object.keys(vocab).length, content: '<|end|>', single_word: false, lstrip: false,
      rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
        behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
  };
}

function sentencePiece() {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const c of ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'a', 'b', 'c', '1', '2', 'é']) vocab[c] = Object.keys(vocab).length;
  const merges = [];
  const add = (a, b) => {
    const m = a + b;
    if (!(m in vocab)) vocab[m] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  };
  add('▁', 'h'); add('l', 'l'); add('▁h', 'e'); add('▁he', 'll'); add('▁hell', 'o'); add('▁', 'w'); add('o', 'r');
  add('▁w', 'or'); add('▁wor', 'l'); add('▁worl', 'd'); add('▁', '▁');
  return {
    version: '1.0',
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, vocab, merges },
  };
}

const samples = [
  'hello world!',
  "Hello, it's  hello\n\n  world 12345 ",
  'cafe\u0301 caf\u00e9 你好 😀',
  'hello<|end|>world </s> <s>hello',
  '   leading and trailing   ',
  '',
];
const golden = {};
for (const [name, json] of [['byte_level.json', byteLevel()], ['sentencepiece.json', sentencePiece()]]) {
  const file = path.join(here, name);
  writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
  const tok = Tokenizer.fromFile(file);
  golden[name] = [];
  for (const text of samples) {
    const e = await tok.encode(text, null, { addSpecialTokens: false });
    // Reference offsets are in UTF-16 code units for this binding, so only
    // ids are golden; byte offsets are checked by the unit tests directly.
    golden[name].push({ text, ids: Array.from(e.getIds()) });
  }
}
writeFileSync(path.join(here, 'golden.json'), JSON.stringify(golden, null, 1) + '\n');
