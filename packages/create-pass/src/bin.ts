// create-pass: `npm create @modelpass/pass <name>` (or `npx @modelpass/create-pass <name>`).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ModelpassError } from '@modelpass/ir';
import { scaffoldPassPackage } from './scaffold.js';

const USAGE = `usage: create-pass <pass-name> [--directory DIR] [--package-name NAME] [--modelpass PATH]

Writes a modelpass pass package: src/index.ts (definePass + definePlugin), golden cases under
fixtures/<pass-name>/, a vitest test through @modelpass/testing, package.json, tsconfig.json, README.md.

  --directory DIR        where to write it (default ./<pass-name>; must not exist or be empty)
  --package-name NAME    npm package name (default modelpass-plugin-<pass-name>)
  --modelpass PATH       install @modelpass/* from a local modelpass instead of the registry: a built
                         checkout (its packages are npm-packed) or a folder of npm pack tarballs
  -h, --help             this text
`;

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        directory: { type: 'string' },
        'package-name': { type: 'string' },
        modelpass: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`create-pass: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    process.stderr.write(`create-pass: expected one pass name, got ${parsed.positionals.length}\n\n${USAGE}`);
    return 2;
  }
  try {
    const result = scaffoldPassPackage({
      name: parsed.positionals[0]!,
      ...(parsed.values.directory !== undefined ? { directory: parsed.values.directory } : {}),
      ...(parsed.values['package-name'] !== undefined ? { packageName: parsed.values['package-name'] } : {}),
      ...(parsed.values.modelpass !== undefined ? { modelpass: parsed.values.modelpass } : {}),
    });
    const where = relative(process.cwd(), result.directory) || '.';
    process.stdout.write(
      `created ${result.packageName} in ${result.directory}\n${result.files.map((file) => `  ${file}`).join('\n')}\n\n` +
        `next:\n  cd ${where}\n  npm install\n  npm run build\n  npm test\n` +
        `  modelpass passes --plugin ${result.directory}\n` +
        (result.wiring.kind === 'registry' ? '\n(@modelpass/* come from the registry; use --modelpass <checkout> to install them from a local modelpass)\n' : ''),
    );
    return 0;
  } catch (error) {
    if (ModelpassError.is(error)) {
      process.stderr.write(`create-pass: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
