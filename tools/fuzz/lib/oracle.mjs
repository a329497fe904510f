/**
 * The oracle: the only failure a parser may report is a `ModelpassError` (checked with
 * `ModelpassError.is`) whose message does not admit an internal error. Everything else — another
 * error type, a broken round-trip property, a case over the time limit, memory beyond the budget —
 * is a finding. Findings are grouped into classes by kind, error name, the throwing frame in our
 * code and the message with numbers and quoted names blanked, so one bug is one class.
 */
import { ModelpassError } from '@modelpass/ir';

export const FINDING_KINDS = ['crash', 'internal', 'property', 'slow', 'hang', 'memory', 'worker-exit', 'harness'];

/** True when `error` is an allowed rejection. */
export function isDocumentedRejection(error) {
  return ModelpassError.is(error) && !/internal error/i.test(error.message);
}

/** The first stack frame in modelpass code (packages/…, tools/fuzz excluded), as `pkg/file.js:fn`. */
export function throwingFrame(error) {
  if (error === undefined) return 'property';
  const stack = typeof error?.stack === 'string' ? error.stack : '';
  const lines = stack.split('\n').slice(1);
  for (const line of lines) {
    const m = /at (?:(.*?) \()?(?:file:\/\/)?[^()]*?\/(?:packages|node_modules\/@modelpass)\/([^/]+)\/(?:dist|src)\/([^:)]+):\d+/.exec(line);
    if (m) return `${m[2]}/${m[3]}${m[1] ? ':' + m[1].replace(/^(?:new |async )/, '') : ''}`;
  }
  const first = lines.find((l) => !l.includes('/tools/fuzz/'));
  const m = first && /at (?:(.*?) \()?(?:node:)?([^():]+)/.exec(first);
  return m ? `${m[2].split('/').pop()}${m[1] ? ':' + m[1] : ''}` : 'unknown';
}

/** The message with numbers, quoted text and long hex blanked (a class, not one instance). */
export function messageShape(message) {
  return String(message ?? '')
    .split('\n')[0]
    .replace(/Received .*$/, 'Received …')
    .replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "'…'")
    .replace(/0x[0-9a-f]+/gi, 'N')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N')
    .replace(/N(, ?N)+/g, 'N…')
    .slice(0, 160);
}

export function describeError(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack, cause: error.cause instanceof Error ? describeError(error.cause) : undefined };
  return { name: typeof error, message: String(error) };
}

/**
 * The class key of a finding. A case over the time limit is one class per parser whether it
 * finished late (`slow`) or was killed (`hang`): which one happens depends on the machine's load.
 */
export function findingClass(kind, error, parser) {
  if (kind === 'slow' || kind === 'hang') return `time-limit|${parser}`;
  if (kind === 'worker-exit') return `worker-exit|${parser}`;
  if (kind === 'memory') return `memory|${parser}|${messageShape(error?.message ?? error)}`;
  const errorForFrame = error?.name === 'PropertyViolation' ? error.cause : error;
  const name = error?.name === 'PropertyViolation' ? `PropertyViolation(${error.property})` : (error?.name ?? typeof error);
  return [kind, name, throwingFrame(errorForFrame), messageShape(propertyGist(error) ?? error?.message ?? error)].join('|');
}

/** For a broken property, what differs without the path to it (`… / node 'x': loc.file differs`). */
function propertyGist(error) {
  if (error?.name !== 'PropertyViolation') return undefined;
  const message = String(error.message).replace(/\s+/g, ' ');
  const at = message.lastIndexOf(' differs');
  if (at < 0) return message;
  const what = message.slice(0, at).split(/: | \/ /).pop();
  return `${error.property}: ${what} differs`;
}
