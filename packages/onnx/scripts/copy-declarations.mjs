// tsc does not copy hand-kept (here: pbts-generated) .d.ts files into dist; this does, so the
// published dist/generated/onnx.d.ts and dist/proto.d.ts resolve their './onnx-types.js' import.
// Run by `npm run build` after `tsc -p tsconfig.json`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const declarations = ['generated/onnx-types.d.ts'];
for (const file of declarations) {
  const target = join(root, 'dist', file);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, 'src', file), target);
}
