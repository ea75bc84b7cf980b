#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled from TypeScript into dist/ by `npm ci` (prepare) or `npm run build`.
let cli;
try {
  cli = require('../dist/runtime/cli/main.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/runtime/cli/main.js')) {
    process.stderr.write('wasmesh: not built yet; run `npm run build` (npm ci does it for you)\n');
    process.exit(1);
  }
  throw e;
}
cli.main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`wasmesh: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
