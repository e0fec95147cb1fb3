// Writes a brotli copy (`<file>.br`, quality 11) beside each file named on
// the command line, for `compress_bundle` in scripts/common.sh: the server
// sends it to browsers that accept brotli (server/src/http/assets.rs).
// Node's own zlib, so the build needs nothing beyond the Node.js it
// already has for Tailwind CSS. Usage: node scripts/brotli-copies.mjs FILE…
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const packed = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(`${file}.br`, packed);
}
