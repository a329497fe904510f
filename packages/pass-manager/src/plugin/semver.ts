/**
 * Semver for plugin compatibility checks, by npm's own `semver` library: versions `x.y.z[-pre][+build]`
 * and every range npm accepts (`^`, `~`, comparators, partial versions, `*`, hyphen ranges, `||`).
 * As in npm, a prerelease version only satisfies a comparator set that names a prerelease of the
 * same x.y.z. This module keeps the pass manager's small API over it.
 */
import semver from 'semver';

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

/** The parts of a semver version, or undefined when `text` is not one (a leading `v` is allowed). */
export function parseVersion(text: string): SemVer | undefined {
  if (typeof text !== 'string') return undefined;
  const parsed = semver.parse(text.trim());
  if (!parsed) return undefined;
  return { major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease: [...parsed.prerelease] };
}

/** Whether `range` is a non-empty semver range. */
export function isValidRange(range: string): boolean {
  return typeof range === 'string' && range.trim() !== '' && semver.validRange(range) !== null;
}

/** Whether `version` satisfies `range`; false for an unparsable version or range. */
export function satisfies(version: string, range: string): boolean {
  if (parseVersion(version) === undefined || !isValidRange(range)) return false;
  return semver.satisfies(version.trim(), range);
}
