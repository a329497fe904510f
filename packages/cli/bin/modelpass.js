#!/usr/bin/env node
// The `modelpass` command. Lives outside dist/ so npm can link it before the first build.
import('../dist/bin.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('modelpass: the CLI is not built yet; run `npx nx run @modelpass/cli:build` (or `npm run build`) first\n');
  } else {
    process.stderr.write(`modelpass: ${error && error.message ? error.message : String(error)}\n`);
  }
  process.exitCode = 1;
});
