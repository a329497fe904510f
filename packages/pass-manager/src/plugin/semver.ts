/**
 * Just enough semver for plugin compatibility checks: versions `x.y.z[-pre][+build]` and ranges
 * made of `^`, `~`, `>=`, `>`, `<=`, `<`, `=`, exact and partial versions (`1`, `1.2`, `1.x`),
 * `*`, space-separated conjunctions and `||` alternatives. Like npm's semver, a prerelease version
 * only satisfies a comparator set that names a prerelease of the same x.y.z.
 */

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function prereleaseParts(text: string | undefined): (string | number)[] {
  if (!text) return [];
  return text.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export function parseVersion(text: string): SemVer | undefined {
  const match = VERSION.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: prereleaseParts(match[4]) };
}

export function compareVersions(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';

interface Comparator {
  readonly operator: Operator;
  readonly version: SemVer;
  /** An upper bound made from `^`/`~`/partial versions (`<2.0.0-0`), not written by the user. */
  readonly synthetic?: boolean;
}

const ZERO = (major: number, minor: number, patch: number, prerelease: readonly (string | number)[] = []): SemVer => ({ major, minor, patch, prerelease });

function wildcard(part: string | undefined): boolean {
  return part === undefined || part === 'x' || part === 'X' || part === '*';
}

/** One comparator token → comparators (a partial or caret range expands to two). */
function expand(token: string): Comparator[] | undefined {
  if (token === '*' || token === '' || token === 'x' || token === 'X') return [];
  const operatorMatch = /^(\^|~>?|>=|<=|>|<|=)?\s*(.*)$/.exec(token)!;
  const operator = operatorMatch[1] ?? '';
  const match = PARTIAL.exec(operatorMatch[2]!);
  if (!match) return undefined;
  const [, majorText, minorText, patchText, pre] = match;
  if (wildcard(majorText)) return operator === '<' || operator === '>' ? [{ operator: '<', version: ZERO(0, 0, 0) }] : [];
  const major = Number(majorText);
  const minor = wildcard(minorText) ? undefined : Number(minorText);
  const patch = minor === undefined || wildcard(patchText) ? undefined : Number(patchText);
  const prerelease = patch !== undefined ? prereleaseParts(pre) : [];
  const low = ZERO(major, minor ?? 0, patch ?? 0, prerelease);
  const upperOf = (kind: 'major' | 'minor' | 'patch'): SemVer =>
    kind === 'major' ? ZERO(major + 1, 0, 0, [0]) : kind === 'minor' ? ZERO(major, (minor ?? 0) + 1, 0, [0]) : ZERO(major, minor ?? 0, (patch ?? 0) + 1, [0]);
  switch (operator) {
    case '^': {
      const upper = major > 0 || minor === undefined ? upperOf('major') : minor > 0 || patch === undefined ? upperOf('minor') : upperOf('patch');
      return [{ operator: '>=', version: low }, { operator: '<', version: upper, synthetic: true }];
    }
    case '~':
    case '~>':
      return [{ operator: '>=', version: low }, { operator: '<', version: minor === undefined ? upperOf('major') : upperOf('minor'), synthetic: true }];
    case '':
    case '=':
      if (minor === undefined) return [{ operator: '>=', version: low }, { operator: '<', version: upperOf('major'), synthetic: true }];
      if (patch === undefined) return [{ operator: '>=', version: low }, { operator: '<', version: upperOf('minor'), synthetic: true }];
      return [{ operator: '=', version: low }];
    case '>':
      if (minor === undefined) return [{ operator: '>=', version: ZERO(major + 1, 0, 0) }];
      if (patch === undefined) return [{ operator: '>=', version: ZERO(major, minor + 1, 0) }];
      return [{ operator: '>', version: low }];
    case '<=':
      if (minor === undefined) return [{ operator: '<', version: upperOf('major'), synthetic: true }];
      if (patch === undefined) return [{ operator: '<', version: upperOf('minor'), synthetic: true }];
      return [{ operator: '<=', version: low }];
    default:
      return [{ operator: operator as Operator, version: low }];
  }
}

function test(comparator: Comparator, version: SemVer): boolean {
  const c = compareVersions(version, comparator.version);
  switch (comparator.operator) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '=':
      return c === 0;
  }
}

/** The comparator sets of a range (alternatives of conjunctions), or undefined when it is not one. */
function parseRange(range: string): Comparator[][] | undefined {
  const sets: Comparator[][] = [];
  for (const alternative of range.split('||')) {
    // Glue operators to their version (`>= 1.2.0` → `>=1.2.0`).
    const tokens = alternative.trim().replace(/(\^|~>?|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/).filter(Boolean);
    const set: Comparator[] = [];
    for (const token of tokens) {
      const comparators = expand(token);
      if (!comparators) return undefined;
      set.push(...comparators);
    }
    sets.push(set);
  }
  return sets;
}

export function isValidRange(range: string): boolean {
  return typeof range === 'string' && range.trim() !== '' && parseRange(range) !== undefined;
}

/** Whether `version` satisfies `range`; false for an unparsable version or range. */
export function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  const sets = parseRange(range);
  if (!parsed || !sets) return false;
  return sets.some((set) => {
    if (!set.every((comparator) => test(comparator, parsed))) return false;
    if (parsed.prerelease.length === 0) return true;
    return set.some(
      (c) => !c.synthetic && c.version.prerelease.length > 0 && c.version.major === parsed.major && c.version.minor === parsed.minor && c.version.patch === parsed.patch,
    );
  });
}
