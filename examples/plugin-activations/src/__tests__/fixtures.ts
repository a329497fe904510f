import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = resolve(PACKAGE_ROOT, '../..');
/** The golden cases, `fixtures/<case>/{input.mpir, output.mpir, options.json}` (run by golden.test.ts). */
export const FIXTURES = join(PACKAGE_ROOT, 'fixtures');
