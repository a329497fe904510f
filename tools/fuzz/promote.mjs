#!/usr/bin/env node
/**
 * Promotes findings of a run (`--out DIR` of run.mjs) to regression inputs: copies each class's
 * (minimized) input to findings/<parser>/ and lists the class in findings/known-open.json, so the
 * CI test keeps replaying it and tolerates that class until it is fixed.
 *   node tools/fuzz/promote.mjs /tmp/fuzz-out [--note "text"]
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { throwingFrame } from './lib/oracle.mjs';
import { TARGETS } from './lib/targets/index.mjs';

const FINDINGS = fileURLToPath(new URL('./findings/', import.meta.url));
const from = process.argv[2];
if (!from || !existsSync(from)) {
  process.stderr.write('usage: node tools/fuzz/promote.mjs OUT_DIR\n');
  process.exit(2);
}
const listPath = join(FINDINGS, 'known-open.json');
const list = JSON.parse(readFileSync(listPath, 'utf8'));
let added = 0;
for (const parser of TARGETS.keys()) {
  const folder = join(from, parser);
  if (!existsSync(folder)) continue;
  for (const name of readdirSync(folder).filter((n) => n.endsWith('.json')).sort()) {
    const record = JSON.parse(readFileSync(join(folder, name), 'utf8'));
    const slug = name.slice(0, -'.json'.length);
    const input = `${slug}.${TARGETS.get(parser).extension}`;
    if (!existsSync(join(folder, input))) continue; // hangs of a worker that never ran a case
    mkdirSync(join(FINDINGS, parser), { recursive: true });
    copyFileSync(join(folder, input), join(FINDINGS, parser, input));
    if (list.open.some((entry) => entry.class === record.class)) continue;
    const cause = record.error?.cause ?? record.error;
    list.open.push({
      parser,
      class: record.class,
      file: `${parser}/${input}`,
      throws: cause?.stack ? throwingFrame({ stack: cause.stack }) : 'n/a',
      error: String(record.error?.message ?? '').split('\n')[0].slice(0, 300),
      found: `seed ${record.seed}, case ${record.caseIndex}`,
    });
    added++;
  }
}
writeFileSync(listPath, JSON.stringify(list, null, 2) + '\n');
process.stdout.write(`${added} classes added to ${listPath}\n`);
