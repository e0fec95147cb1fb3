// Writes a brotli copy (`<file>.br`) beside each file named on the command
// line, for `compress_bundle` in scripts/common.sh: the server sends it to
// browsers that accept brotli (server/src/http/assets.rs). Node's own zlib,
// so the build needs nothing beyond the Node.js it already has for
// Tailwind CSS. Usage: node scripts/brotli-copies.mjs [--quality=0..11] FILE…
// (quality 11, brotli's best, unless told).
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const args = process.argv.slice(2);
const asked = args.find((a) => a.startsWith('--quality='));
const quality = asked ? Number(asked.slice('--quality='.length)) : constants.BROTLI_MAX_QUALITY;
if (!Number.isInteger(quality) || quality < constants.BROTLI_MIN_QUALITY || quality > constants.BROTLI_MAX_QUALITY) {
  console.error(`brotli-copies: --quality must be ${constants.BROTLI_MIN_QUALITY}..${constants.BROTLI_MAX_QUALITY}, not ${asked}`);
  process.exit(2);
}

for (const file of args.filter((a) => a !== asked)) {
  const data = readFileSync(file);
  const packed = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(`${file}.br`, packed);
}
