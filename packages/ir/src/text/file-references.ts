/**
 * Which files a `.mpir` text may read through `file("…", offset=…, length=…)`: relative paths
 * resolve against the folder of the `.mpir` file (not the working directory), and the resolved
 * path — after following every symlink — must lie under that folder or under a folder the user
 * allowed. A target that exists must be a regular file (a FIFO or a device would block or never
 * end) holding the referenced range. A target that does not exist yet is accepted and fails
 * when it is read, as lazy storage always has.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeFileKind } from '../file-kind.js';

/** Where `file(...)` references resolve and which folders they may read. */
export interface FileReadPolicy {
  /** The folder relative paths resolve against (absolute). */
  readonly baseDirectory: string;
  /** Absolute folders references may lie under, or 'anywhere' to skip the check. */
  readonly roots: readonly string[] | 'anywhere';
  /** The same folders with every symlink followed (computed once per parse). */
  readonly realRoots: readonly string[];
}

/** The outcome of checking one reference: the absolute path to read, or why it is refused. */
export type FileReferenceCheck =
  | { readonly path: string; readonly size?: number }
  | { readonly problem: string; readonly hint?: string; readonly expected?: string; readonly actual?: string };

export function fileReadPolicy(options: { file?: string; baseDirectory?: string; allowRead?: readonly string[] | 'anywhere' }): FileReadPolicy {
  const baseDirectory = resolve(options.baseDirectory ?? (options.file !== undefined ? dirname(resolve(options.file)) : process.cwd()));
  if (options.allowRead === 'anywhere') return { baseDirectory, roots: 'anywhere', realRoots: [] };
  const roots = [baseDirectory, ...(options.allowRead ?? []).map((root) => resolve(root))];
  return { baseDirectory, roots, realRoots: roots.map(realPathOfExisting) };
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path`, following symlinks as far as the path exists (a missing tail is appended as written). */
function realPathOfExisting(path: string): string {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = realpathSync(current);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(basename(current));
      current = parent;
    }
  }
}

/** Resolves and checks the path written in a `file(...)` reference. */
export function checkFileReference(written: string, policy: FileReadPolicy): FileReferenceCheck {
  if (written === '' || written.includes('\0')) return { problem: 'file(...) needs a path', actual: JSON.stringify(written) };
  const resolved = resolve(policy.baseDirectory, written);
  const allowHint = 'allow the folder with allowRead: [DIR] (parseModel, readModelText) or --allow-read DIR / MODELPASS_ALLOW_READ=DIR (the modelpass CLI)';
  if (policy.roots !== 'anywhere' && !policy.roots.some((root) => isInside(resolved, root))) {
    return {
      problem: `file(...) reference '${written}' lies outside the folders this IR may read`,
      expected: `a path under ${policy.roots.join(' or ')}`,
      actual: resolved,
      hint: allowHint,
    };
  }
  const real = realPathOfExisting(resolved);
  if (policy.roots !== 'anywhere') {
    const { realRoots } = policy;
    if (!realRoots.some((root) => isInside(real, root))) {
      return {
        problem: `file(...) reference '${written}' leads through a symbolic link to '${real}', outside the folders this IR may read`,
        expected: `a path under ${realRoots.join(' or ')}`,
        actual: real,
        hint: allowHint,
      };
    }
  }
  let stats: Stats;
  try {
    stats = statSync(real);
  } catch {
    return { path: real };
  }
  if (!stats.isFile()) {
    return { problem: `file(...) reference '${written}' is ${describeFileKind(stats)}, not a regular file`, expected: 'a regular file of tensor data' };
  }
  return { path: real, size: stats.size };
}
