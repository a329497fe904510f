/**
 * Chart.js (MIT, https-free at run time), read from node_modules when a report is rendered and
 * inlined into the page, so the report needs no network. Its license banners stay in the source.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ModelpassError } from '@modelpass/ir';

export interface InlineLibrary {
  readonly name: string;
  readonly version: string;
  /** The minified UMD build, without its source-map comment. */
  readonly source: string;
}

let cached: InlineLibrary | undefined;

/** The chart.js UMD build (it defines `window.Chart`). */
export function chartLibrary(): InlineLibrary {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('chart.js');
  } catch (cause) {
    throw new ModelpassError({
      reason: 'the HTML report needs the chart.js package, which is not installed next to @modelpass/report',
      hint: 'npm install chart.js@4',
      source: '@modelpass/report',
      cause,
    });
  }
  const file = join(dirname(entry), 'chart.umd.min.js');
  const text = readFileSync(file, 'utf8');
  const version = /Chart\.js v(\d+\.\d+\.\d+)/.exec(text)?.[1];
  if (version === undefined || !text.includes('window.Chart=')) {
    throw new ModelpassError({ reason: `${file} is not the Chart.js UMD build the HTML report inlines`, expected: 'Chart.js 4.x chart.umd.min.js', source: '@modelpass/report' });
  }
  const source = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/<\/script|<!--/i.test(source)) {
    throw new ModelpassError({ reason: `${file} contains '</script' or '<!--' and cannot be inlined in a <script> element`, source: '@modelpass/report' });
  }
  cached = { name: 'chart.js', version, source };
  return cached;
}
