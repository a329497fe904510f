/** A section of the HTML report: a heading, charts with the tables that carry the same numbers. */
import type { Report } from '../schema.js';
import type { ChartSpec } from './chart-spec.js';

export interface RenderedSection {
  /** Body HTML (already escaped), placed under the section heading. */
  readonly html: string;
  /** Charts whose `<canvas id>` appear in `html` (see `chartFigure`). */
  readonly charts: readonly ChartSpec[];
}

export interface ReportSection {
  /** Stable key, used for the element id of the section. */
  readonly key: string;
  readonly title: string;
  /** The section, or undefined when the report holds nothing for it (the section is left out). */
  render(report: Report): RenderedSection | undefined;
}
