import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Relative modules a source file loads at run time: `import … from` and `export … from`, not `import type`/`export type`. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gms)) {
    if (match[2]) continue;
    found.push(resolve(dirname(file), match[3]!.replace(/\.js$/, '.ts')));
  }
  for (const match of text.matchAll(/^import\s+'(\.[^']+)'/gm)) found.push(resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')));
  return found;
}

/** Every source file the package entry loads at run time (static imports only). */
function entryModules(): Set<string> {
  const seen = new Set<string>();
  const pending = [join(SRC, 'index.ts')];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...runtimeImports(file));
  }
  return seen;
}

describe('the package entry', () => {
  it("loads none of flatc's generated table classes (the writer builds tables by slot, the reader decodes by slot)", () => {
    const modules = [...entryModules()].map((file) => relative(SRC, file));
    expect(modules).toContain('writer/flatbuffer-build.ts');
    expect(modules).toContain('generated/schema-tables.ts');
    // 190 modules (the Operator class imports both options unions, which import every options table): each one
    // a file Node's loader resolves, reads and links in every process that imports @modelpass/tflite.
    expect(modules.filter((file) => file.startsWith('generated/flatbuffers'))).toEqual([]);
  });
});
