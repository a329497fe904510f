/** `node dist/build/cli.js [out.html]`: writes the browser page (default `dist/page/index.html`). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, ModelpassError, writeFileAtomic } from '@modelpass/ir';
import { buildWebPage } from './build-web-page.js';

const target = resolve(process.argv[2] ?? fileURLToPath(new URL('../page/index.html', import.meta.url)));
try {
  const page = await buildWebPage();
  writeFileAtomic(target, page.html);
  console.log(`@modelpass/web: ${target} (${(Buffer.byteLength(page.html) / 1024).toFixed(0)} KiB, ${page.inputs.length} source files)`);
} catch (error) {
  console.error(ModelpassError.is(error) ? `@modelpass/web: ${error.diagnostics.map(formatDiagnostic).join('\n')}` : error);
  process.exitCode = 1;
}
