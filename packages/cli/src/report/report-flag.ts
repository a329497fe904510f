import type { FlagSpec } from '../args.js';

/** `--report FILE`'s flag, apart from the writer (report-file.ts): convert declares it without loading @modelpass/report. */
export const reportFlag: FlagSpec = {
  type: 'string',
  help: 'write a report of what the command did and measured: FILE.json (schema @modelpass/report/schema/report.v1.json) or FILE.html (a self-contained page)',
  valueName: 'FILE',
};
