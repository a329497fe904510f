// Regenerates src/generated/onnx.ts and onnx-types.d.ts from schema/onnx.proto with protobufjs-cli (pbjs + pbts),
// then fixes the imports so the output loads under Node ESM and type-checks under NodeNext.
// Run: npm run generate (in packages/onnx).
import { execFileSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmpJs = join(root, 'src/generated/.onnx.tmp.js');
const out = join(root, 'src/generated/onnx.ts');
const dts = join(root, 'src/generated/onnx-types.d.ts');
const header =
  '// GENERATED FILE: do not edit. Made from packages/onnx/schema/onnx.proto by protobufjs-cli;\n' +
  '// regenerate with `npm run generate` in packages/onnx (scripts/generate.mjs).\n';

execFileSync(
  'npx',
  [
    'pbjs', '-t', 'static-module', '-w', 'es6', '--keep-case',
    '--no-create', '--no-verify', '--no-convert', '--no-delimited', '--no-typeurl', '--no-service',
    '-o', tmpJs, join(root, 'schema/onnx.proto'),
  ],
  { cwd: root, stdio: 'inherit' },
);
execFileSync('npx', ['pbts', '--no-comments', '-o', dts, tmpJs], { cwd: root, stdio: 'inherit' });

// The code is protobufjs's JavaScript inside a .ts file (so tsc emits it with the package), typed by
// the pbts declarations in onnx-types.d.ts.
let js = readFileSync(tmpJs, 'utf8');
unlinkSync(tmpJs);
js = js.replace(
  'export const onnx = $root.onnx = (() => {',
  'export const onnx: typeof import("./onnx-types.js").onnx = $root.onnx = (() => {',
);
js = js.replace(/\nexport \{\s*\$root as default\s*\};?\s*$/, '\n');
js = js.replace(/^\/\*eslint-disable[^\n]*\n/, '');
js = js.replace('import $protobuf from "protobufjs/minimal.js";', 'import $protobuf from "protobufjs/minimal.js";\nimport Long from "long";\n$protobuf.util.Long = Long;\n$protobuf.configure();');
writeFileSync(out, header + '// @ts-nocheck\n' + js);

let types = readFileSync(dts, 'utf8');
types = types
  .replace('import * as $protobuf from "protobufjs";', 'import type * as $protobuf from "protobufjs/minimal.js";')
  .replace('import Long = require("long");', 'import type Long from "long";');
writeFileSync(dts, header + types);
