/**
 * Every ```ts block of this package's README runs here. The blocks of one `##` section form one
 * script (later blocks use what earlier ones defined); a line `expr; // → value` asserts that
 * `expr` deep-equals `value`. The scripts import '@modelpass/ir' like any user.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(join(PACKAGE, 'README.md'), 'utf8');

interface Section {
  readonly title: string;
  readonly blocks: { readonly code: string; readonly line: number }[];
}

function sections(markdown: string): Section[] {
  const result: Section[] = [{ title: '(intro)', blocks: [] }];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) result.push({ title: line.slice(3), blocks: [] });
    if (line.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    result[result.length - 1]!.blocks.push({ code: lines.slice(start, end).join('\n'), line: start + 1 });
    i = end;
  }
  return result.filter((section) => section.blocks.length > 0);
}

const IMPORT = /^import (type )?\{([^}]*)\} from '([^']+)';$/;
const ASSERTION = /^(\s*)(.+?);\s*\/\/ → (.+)$/;

/** One script from a section's blocks: imports merged, `// →` lines turned into checks. */
function script(section: Section): { source: string; checks: number } {
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  let checks = 0;
  for (const block of section.blocks) {
    block.code.split('\n').forEach((line, offset) => {
      const imported = IMPORT.exec(line);
      if (imported) {
        const names = imports.get(imported[3]!) ?? new Set<string>();
        for (const name of imported[2]!.split(',').map((n) => n.trim()).filter(Boolean)) names.add(imported[1] ? `type ${name}` : name);
        imports.set(imported[3]!, names);
        body.push('');
        return;
      }
      const assertion = ASSERTION.exec(line);
      if (assertion) {
        checks++;
        body.push(`${assertion[1]}__check(() => (${assertion[2]}), ${assertion[3]}, ${block.line + offset});`);
        return;
      }
      body.push(line);
    });
  }
  const head = [...imports].map(([module, names]) => `import { ${[...names].join(', ')} } from '${module}';`);
  head.push("import { deepStrictEqual as __deepStrictEqual } from 'node:assert';");
  const check = `
function __check(actual: () => unknown, expected: unknown, line: number): void {
  __deepStrictEqual(actual(), expected, \`README.md:\${line}\`);
  (globalThis as { __readmeChecks?: number }).__readmeChecks = ((globalThis as { __readmeChecks?: number }).__readmeChecks ?? 0) + 1;
}`;
  return { source: [...head, ...body, check].join('\n'), checks };
}

const workDir = join(PACKAGE, 'tmp');
mkdirSync(workDir, { recursive: true });
const folder = mkdtempSync(join(workDir, 'readme-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('README examples run', () => {
  const all = sections(README);
  it('finds the examples (the mutation API section among them)', () => {
    expect(all.map((s) => s.title)).toEqual(expect.arrayContaining(['(intro)', 'Mutation API (for pass authors)']));
    expect(all.reduce((n, s) => n + s.blocks.length, 0)).toBeGreaterThanOrEqual(8);
  });
  all.forEach((section, index) => {
    it(`section "${section.title}" (${section.blocks.length} block(s))`, async () => {
      const { source, checks } = script(section);
      const file = join(folder, `section-${index}.ts`);
      writeFileSync(file, source);
      const counter = globalThis as { __readmeChecks?: number };
      counter.__readmeChecks = 0;
      await import(pathToFileURL(file).href);
      expect(counter.__readmeChecks).toBe(checks);
    });
  });
});
