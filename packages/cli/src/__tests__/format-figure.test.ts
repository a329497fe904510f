import { describe, expect, it } from 'vitest';
import { formatFigure } from '../compare-report.js';

describe('formatFigure', () => {
  it('keeps an exponent that ends in 0 (7.713e-10 is not 7.713e-1)', () => {
    expect(formatFigure(7.713e-10)).toBe('7.713e-10');
    expect(formatFigure(-2.5e-20)).toBe('-2.5e-20');
    expect(formatFigure(1.234e20)).toBe('1.234e+20');
    expect(formatFigure(1e-10)).toBe('1e-10');
  });
  it('still drops trailing zeros of the mantissa', () => {
    expect(formatFigure(1.5e-7)).toBe('1.5e-7');
    expect(formatFigure(0.5)).toBe('0.5');
    expect(formatFigure(120.5)).toBe('120.5');
    expect(formatFigure(10.000001)).toBe('10');
    expect(formatFigure(3)).toBe('3');
    expect(formatFigure(0.00012)).toBe('1.2e-4');
  });
});
