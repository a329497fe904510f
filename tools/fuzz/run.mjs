#!/usr/bin/env node
/**
 * modelpass fuzzer. Examples:
 *   node tools/fuzz/run.mjs --parser all --count 10000 --seed 1
 *   node tools/fuzz/run.mjs --parser onnx --count 1000000 --seed 7 --out /tmp/fuzz-onnx
 *   node tools/fuzz/run.mjs --parser mpir --seed 7 --case 1234        (regenerate one case)
 *   node tools/fuzz/run.mjs --parser npy --replay tools/fuzz/findings/npy/x.npy
 * Exit status: 0 no findings, 1 findings, 2 usage error. See tools/fuzz/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { optionsFor, regenerateCase, runCampaign } from './lib/campaign.mjs';
import { writeFinding } from './lib/findings.mjs';
import { closeReplay, replayInput } from './lib/replay.mjs';
import { PARSER_NAMES, TARGETS } from './lib/targets/index.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

function usage(message) {
  if (message) process.stderr.write(`fuzz: ${message}\n`);
  process.stderr.write(
    `usage: node tools/fuzz/run.mjs --parser ${PARSER_NAMES.join('|')}|all|passes [--count N] [--seed S]\n` +
      '         [--time-limit-ms 1000] [--hang-kill-ms 10000] [--max-rss-mb 4096] [--max-seconds T] [--corpus DIR] [--out DIR]\n' +
      '         [--no-minimize] [--case N] [--replay FILE] [--json]\n',
  );
  process.exit(2);
}

function integer(name, text, min = 0) {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) usage(`--${name} must be a whole number >= ${min}, got '${text}'`);
  return Number(text);
}

let args;
try {
  args = parseArgs({
    options: {
      parser: { type: 'string' },
      count: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      'time-limit-ms': { type: 'string' },
      'hang-kill-ms': { type: 'string' },
      'max-rss-mb': { type: 'string' },
      'max-seconds': { type: 'string' },
      corpus: { type: 'string' },
      out: { type: 'string' },
      'no-minimize': { type: 'boolean', default: false },
      case: { type: 'string' },
      replay: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usage(error.message);
}
if (args.help) usage();
if (!args.parser) usage('--parser is required');
const parsers = args.parser === 'all' ? PARSER_NAMES : args.parser.split(',');
for (const p of parsers) if (!TARGETS.has(p)) usage(`unknown parser '${p}' (known: ${PARSER_NAMES.join(', ')}, all, and the passes mode: passes)`);
const seed = integer('seed', args.seed);
const count = integer('count', args.count);
// Only what was given: each target's own defaults (the passes mode's 10 s per pipeline) fill the rest.
const given = Object.fromEntries(
  Object.entries({
    timeLimitMs: integer('time-limit-ms', args['time-limit-ms'], 1),
    hangKillMs: integer('hang-kill-ms', args['hang-kill-ms'], 1),
    maxRssMb: integer('max-rss-mb', args['max-rss-mb'], 64),
    minimize: !args['no-minimize'],
    corpus: args.corpus,
    maxSeconds: integer('max-seconds', args['max-seconds'], 1),
  }).filter(([, value]) => value !== undefined),
);
const out = args.out ?? join(HERE, 'out', `${args.parser.replace(/,/g, '+')}-seed${seed}`);

if (args.replay !== undefined) {
  if (parsers.length !== 1) usage('--replay needs one --parser');
  const outcome = await replayInput(parsers[0], readFileSync(args.replay), given);
  closeReplay();
  process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
  process.exit(outcome.outcome === 'finding' ? 1 : 0);
}

if (args.case !== undefined) {
  if (parsers.length !== 1) usage('--case needs one --parser');
  const index = integer('case', args.case);
  const input = await regenerateCase(parsers[0], seed, index, given);
  mkdirSync(out, { recursive: true });
  const file = join(out, `case-${parsers[0]}-seed${seed}-${index}.${TARGETS.get(parsers[0]).extension}`);
  writeFileSync(file, input);
  const outcome = await replayInput(parsers[0], input, given);
  closeReplay();
  process.stdout.write(JSON.stringify({ file, ...outcome }, null, 2) + '\n');
  process.exit(outcome.outcome === 'finding' ? 1 : 0);
}

const reports = [];
let anyFinding = false;
for (const parser of parsers) {
  const classes = new Map();
  const report = await runCampaign({
    parser,
    seed,
    count,
    options: given,
    onFinding(finding) {
      anyFinding = true;
      const known = classes.get(finding.classKey);
      if (known) {
        known.count++;
        return;
      }
      const files = writeFinding(out, finding);
      classes.set(finding.classKey, { class: finding.classKey, kind: finding.kind, firstCase: finding.index, count: 1, files });
      if (!args.json) process.stderr.write(`  NEW ${finding.kind} in ${parser} at case ${finding.index}: ${finding.classKey}\n    → ${files[0]}\n`);
    },
    onProgress(index, stats) {
      if (!args.json && process.stderr.isTTY) process.stderr.write(`\r  ${parser}: ${stats.cases}/${count} cases, ${stats.findings} findings   `);
    },
  });
  const rate = report.stats.cases / Math.max(report.seconds, 1e-9);
  const summary = { ...report, findings: [...classes.values()], casesPerSecond: Math.round(rate) };
  reports.push(summary);
  if (!args.json) {
    const s = report.stats;
    process.stderr.write(
      `${process.stderr.isTTY ? '\n' : ''}${parser}: ${s.cases} cases in ${report.seconds.toFixed(1)} s (${Math.round(rate)}/s), seed ${seed}: ` +
        `${s.accepted} accepted, ${s.rejected} rejected with ModelpassError, ${s.skipped} skipped, ${s.findings} findings in ${classes.size} classes; ` +
        `slowest case ${s.maxCaseMs.toFixed(1)} ms (#${s.maxCaseIndex})${report.stoppedByTimeLimit ? ` — stopped by --max-seconds after ${s.cases} of ${count}` : ''}\n`,
    );
    if (s.target) process.stderr.write(`  ${parser}: ${JSON.stringify(s.target)}\n`);
  }
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'report.json'), JSON.stringify({ seed, count, options: Object.fromEntries(parsers.map((p) => [p, optionsFor(p, given)])), reports }, null, 2) + '\n');
if (args.json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
else process.stderr.write(`report: ${join(out, 'report.json')}\n`);
process.exit(anyFinding ? 1 : 0);
