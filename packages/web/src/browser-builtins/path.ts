/**
 * `node:path` in the browser page: the POSIX subset the core uses (on names, never on a real file
 * system). The working directory is `/`.
 */
export const sep = '/';
export const delimiter = ':';

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

export function normalize(path: string): string {
  const absolute = isAbsolute(path);
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
    } else parts.push(part);
  }
  const joined = parts.join('/');
  const trailing = path.endsWith('/') && joined !== '' ? '/' : '';
  if (absolute) return `/${joined}${trailing}`;
  return joined === '' ? (path.endsWith('/') && path !== '' && !absolute ? './' : '.') : `${joined}${trailing}`;
}

export function join(...paths: string[]): string {
  const joined = paths.filter((p) => p !== '').join('/');
  return joined === '' ? '.' : normalize(joined);
}

export function resolve(...paths: string[]): string {
  let resolved = '';
  for (let i = paths.length - 1; i >= 0 && !isAbsolute(resolved); i -= 1) {
    const path = paths[i]!;
    if (path !== '') resolved = resolved === '' ? path : `${path}/${resolved}`;
  }
  const normalized = normalize(isAbsolute(resolved) ? resolved : `/${resolved}`);
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

export function dirname(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  // The last slash that follows a non-slash character, ignoring trailing slashes (index 0 excluded).
  let end = -1;
  let inTrailingSlashes = true;
  for (let i = path.length - 1; i >= 1; i -= 1) {
    if (path[i] !== '/') inTrailingSlashes = false;
    else if (!inTrailingSlashes) {
      end = i;
      break;
    }
  }
  if (end === -1) return rooted ? '/' : '.';
  if (rooted && end === 1) return '//';
  return path.slice(0, end);
}

export function basename(path: string, suffix?: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return suffix !== undefined && base.endsWith(suffix) && base !== suffix ? base.slice(0, -suffix.length) : base;
}

export function extname(path: string): string {
  const base = basename(path);
  const index = base.lastIndexOf('.');
  return index <= 0 || base === '..' ? '' : base.slice(index);
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common += 1;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}

export const posix = { sep, delimiter, isAbsolute, normalize, join, resolve, dirname, basename, extname, relative };
export default posix;
