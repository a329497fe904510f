#!/usr/bin/env node
// Self and inclusive CPU time per function (and self time per file) from `node --cpu-prof` output.
//
//   node tools/bench/tflite/cpuprofile-top.mjs FILE.cpuprofile [--top 40] [--match legalize]
import { readFileSync } from 'node:fs';
import { flag } from '../prune/ort-timing.mjs';

const TOP = Number(flag('top', '40'));
// --within TEXT: only the samples with a frame whose label contains TEXT on their stack (e.g. legalize-pass.js).
const WITHIN = flag('within', '');
const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const deltas = profile.timeDeltas;
const selfMs = new Map();
for (let i = 0; i < profile.samples.length; i++) selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + (deltas[i] ?? 0) / 1000);
const label = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^.*\/packages\//, '').replace(/^file:\/\//, '');
  return `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
};
const self = new Map();
const inclusive = new Map();
const perFile = new Map();
let total = 0;
const stackHas = (id, text) => {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) if (label(byId.get(cur)).includes(text)) return true;
  return false;
};
for (const [id, ms] of selfMs) {
  if (WITHIN && !stackHas(id, WITHIN)) continue;
  total += ms;
  const n = byId.get(id);
  self.set(label(n), (self.get(label(n)) ?? 0) + ms);
  const url = n.callFrame.url.replace(/^.*\/packages\//, '') || n.callFrame.functionName;
  perFile.set(url, (perFile.get(url) ?? 0) + ms);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
  }
}
const show = (title, map) => {
  console.log(`\n${title} (total ${total.toFixed(0)} ms)`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${v.toFixed(1).padStart(9)} ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show('self', self);
show('inclusive', inclusive);
show('self per file', perFile);
