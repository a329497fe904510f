#!/usr/bin/env node
// `create-pass` / `npm create @modelpass/pass`. Lives outside dist/ so npm can link it before the first build.
import('../dist/bin.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('create-pass: not built yet; run `npx nx run @modelpass/create-pass:build` first\n');
  } else {
    process.stderr.write(`create-pass: ${error && error.message ? error.message : String(error)}\n`);
  }
  process.exitCode = 1;
});
