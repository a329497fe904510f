import { describe, expect, it } from 'vitest';
import { isValidRange, satisfies } from '@modelpass/pass-manager';

describe('semver ranges', () => {
  it.each([
    ['1.2.3', '^1.2.3', true],
    ['1.9.0', '^1.2.3', true],
    ['2.0.0', '^1.2.3', false],
    ['1.2.2', '^1.2.3', false],
    ['0.1.5', '^0.1.0', true],
    ['0.2.0', '^0.1.0', false],
    ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false],
    ['1.5.0', '^1', true],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.9.0', '~1', true],
    ['1.2.3', '1.2.3', true],
    ['1.2.4', '1.2.3', false],
    ['1.2.7', '1.2', true],
    ['1.2.7', '1.2.x', true],
    ['1.3.0', '1.x', true],
    ['2.0.0', '1.x', false],
    ['3.1.4', '*', true],
    ['1.0.0', '>=1.0.0 <2.0.0', true],
    ['2.0.0', '>=1.0.0 <2.0.0', false],
    ['2.0.0', '>= 1.0.0', true],
    ['0.9.0', '>1.0.0', false],
    ['1.0.1', '>1.0.0', true],
    ['1.0.0', '<=1.0.0', true],
    ['2.5.0', '^1.0.0 || ^2.0.0', true],
    ['3.0.0', '^1.0.0 || ^2.0.0', false],
    ['2.0.0-beta.1', '^1.0.0', false],
    ['2.0.0-beta.1', '^2.0.0', false],
    ['2.0.0-beta.2', '^2.0.0-beta.1', true],
    ['2.0.0-alpha', '^2.0.0-beta.1', false],
    ['2.0.0', '^2.0.0-beta.1', true],
    ['1.0.0', 'not a range', false],
    ['1.5.0', '1.0.0 - 2.0.0', true],
    ['2.0.1', '1.0.0 - 2.0.0', false],
    ['v1.2.3', '^1.2.0', true],
    ['not a version', '*', false],
  ])('%s satisfies %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('tells valid ranges from invalid ones', () => {
    expect(isValidRange('^0.1.0')).toBe(true);
    expect(isValidRange('>=1 <3 || 5.x')).toBe(true);
    expect(isValidRange('latest')).toBe(false);
    expect(isValidRange('')).toBe(false);
  });
});
