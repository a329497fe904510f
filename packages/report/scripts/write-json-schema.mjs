// Writes schema/report.v1.json from the built REPORT_JSON_SCHEMA (run after `build`).
import { writeFileSync } from 'node:fs';
import { REPORT_JSON_SCHEMA } from '../dist/index.js';

writeFileSync(new URL('../schema/report.v1.json', import.meta.url), JSON.stringify(REPORT_JSON_SCHEMA, null, 2) + '\n');
