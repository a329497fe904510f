/** The report's sections in page order; a section with nothing to show is left out. */
import type { ReportSection } from '../section.js';
import { accuracyLatencySection } from './accuracy-latency.js';
import { checkSection } from './check.js';
import { diffSection } from './diff.js';
import { layersSection } from './layers.js';
import { overviewSection } from './overview.js';
import { passesSection } from './passes.js';
import { sizeSection } from './size.js';

export const REPORT_SECTIONS: readonly ReportSection[] = [
  overviewSection,
  checkSection,
  accuracyLatencySection,
  sizeSection,
  layersSection,
  passesSection,
  diffSection,
];
