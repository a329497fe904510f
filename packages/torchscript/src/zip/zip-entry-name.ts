import { torchscriptError } from '../errors.js';

/**
 * Checks a zip entry name before anything uses it: relative, forward slashes only, no `..` or `.`
 * segments, no empty segments, no drive letters, no control characters. A name that could address
 * something outside the archive's folder is refused with the name shown.
 */
export function checkZipEntryName(name: string, file: string): void {
  const problem = entryNameProblem(name);
  if (problem) {
    throw torchscriptError({
      reason: `zip entry name ${JSON.stringify(name)} is refused: ${problem}`,
      location: { file },
      expected: 'a relative name of plain segments separated by "/"',
      code: 'torchscript/zip-entry-name',
    });
  }
}

function entryNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.includes('\\')) return 'it contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter';
  const segments = name.split('/');
  if (segments.some((s, i) => s === '' && i !== segments.length - 1)) return 'it has an empty path segment';
  if (segments.some((s) => s === '..')) return 'it has a ".." segment (it would leave the archive\'s folder)';
  if (segments.some((s) => s === '.')) return 'it has a "." segment';
  return undefined;
}
