/**
 * Writes findings: per class, the first input (and its minimized form) as
 * `<dir>/<parser>/<slug>.<ext>` plus `<slug>.json` with the error, seed, case index and the
 * command that regenerates it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashString } from './prng.mjs';
import { TARGETS } from './targets/index.mjs';

export function slugOf(classKey) {
  const words = classKey.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).replace(/-$/, '');
  return `${words}-${hashString(classKey).toString(16).padStart(8, '0')}`;
}

export function writeFinding(dir, finding) {
  const target = TARGETS.get(finding.parser);
  const folder = join(dir, finding.parser);
  mkdirSync(folder, { recursive: true });
  const slug = slugOf(finding.classKey);
  const files = [];
  const save = (name, data) => {
    if (data === undefined) return;
    writeFileSync(join(folder, name), data);
    files.push(join(folder, name));
  };
  save(`${slug}.${target.extension}`, finding.minimized ?? finding.input);
  if (finding.minimized) save(`${slug}.original.${target.extension}`, finding.input);
  const record = {
    parser: finding.parser,
    class: finding.classKey,
    kind: finding.kind,
    seed: finding.seed,
    caseIndex: finding.index,
    error: finding.error,
    inputBytes: finding.input?.length,
    minimizedBytes: finding.minimized?.length,
    regenerate: `node tools/fuzz/run.mjs --parser ${finding.parser} --seed ${finding.seed} --case ${finding.index}`,
  };
  save(`${slug}.json`, JSON.stringify(record, null, 2) + '\n');
  return files;
}
