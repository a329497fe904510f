/**
 * `--report FILE`: the report as JSON (validated against the schema first), or, for `.html`/`.htm`,
 * the self-contained page `renderHtmlReport` makes of it. Written atomically.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { writeFileAtomic } from '@modelpass/ir';
import { renderHtmlReport, validateReport, type Report } from '@modelpass/report';

export { reportFlag } from './report-flag.js';

let cachedVersion: string | undefined;

/** The CLI's version, for `tool.version`. */
export function cliVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

/** The fields every report starts with. */
export function reportHeader(command: Report['command'], argv: readonly string[] | undefined): Pick<Report, 'schemaVersion' | 'tool' | 'command' | 'createdAt'> & { argv?: readonly string[] } {
  return { schemaVersion: 1, tool: { name: 'modelpass', version: cliVersion() }, command, createdAt: new Date().toISOString(), ...(argv ? { argv } : {}) };
}

export function writeReportFile(path: string, report: Report): void {
  // Round-trip through JSON first: what is validated is exactly what is written.
  const json = JSON.parse(JSON.stringify(report)) as unknown;
  const valid = validateReport(json, path);
  const extension = extname(path).toLowerCase();
  const text = extension === '.html' || extension === '.htm' ? renderHtmlReport(valid) : JSON.stringify(valid, null, 2) + '\n';
  writeFileAtomic(path, text);
}
