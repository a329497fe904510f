/**
 * What a pass hands `context.report`, checked: a JavaScript plugin may write `severity: 'note'`
 * (printed as a note nobody's tools know) or forget `reason`. The error names the pass.
 */
import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';
import { describeValue } from './pass-registry.js';

const SEVERITIES: readonly string[] = ['error', 'warning', 'info'];

export function checkPassReport(init: unknown, reporter: string): asserts init is DiagnosticInit {
  const value = init as { severity?: unknown; reason?: unknown } | null | undefined;
  if (typeof value !== 'object' || value === null) {
    throw passReportError(`${reporter} called context.report without a diagnostic`, '{ severity, reason, … }', describeValue(init));
  }
  if (typeof value.reason !== 'string' || value.reason === '') {
    throw passReportError(`${reporter} called context.report without a reason`, 'reason: a non-empty string', describeValue(value.reason));
  }
  if (value.severity !== undefined && !SEVERITIES.includes(value.severity as string)) {
    throw passReportError(`${reporter} reported severity ${describeValue(value.severity)}`, `one of ${SEVERITIES.join(', ')}`, describeValue(value.severity));
  }
}

function passReportError(reason: string, expected: string, actual: string): ModelpassError {
  return new ModelpassError({ reason, expected, actual, source: '@modelpass/pass-manager', code: 'pass/bad-report' });
}
