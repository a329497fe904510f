import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The template tree of a pass package, shipped with this package (`templates/package/`). */
export const TEMPLATE_ROOT = fileURLToPath(new URL('../templates/package/', import.meta.url));

/** Values for `{{key}}` in template files and `__name__` in template paths. */
export type TemplateValues = Readonly<Record<string, string>>;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/** `{{key}}` → value; an unknown key is a template bug, so it throws. */
export function fillTemplate(text: string, values: TemplateValues, where: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${where} uses {{${key}}}, which the scaffold does not provide`);
    return value;
  });
}

/** Output path of a template file: `.tmpl` dropped, `__name__` filled, `gitignore` → `.gitignore` (npm drops dotfiles named .gitignore from tarballs). */
function outputPath(templatePath: string, values: TemplateValues): string {
  return templatePath
    .split(sep)
    .map((part) => part.replace(/\.tmpl$/, '').replace(/__name__/g, values['name'] ?? '__name__'))
    .map((part) => (part === 'gitignore' ? '.gitignore' : part))
    .join('/');
}

/** Every template file, filled: relative output path → contents. */
export function renderTemplates(values: TemplateValues, root = TEMPLATE_ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of listFiles(root).sort()) {
    const path = relative(root, file);
    files.set(outputPath(path, values), fillTemplate(readFileSync(file, 'utf8'), values, path));
  }
  return files;
}
