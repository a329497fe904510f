import { resolve } from 'node:path';
import { compareModels, type EngineName } from '@modelpass/runtime';
import { flagBoolean, flagList, flagString } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage-error.js';

function parseDims(entries: readonly string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const entry of entries) {
    const match = /^([^=]+)=(\d+)$/.exec(entry);
    if (!match) throw new UsageError(`--dim takes NAME=SIZE (e.g. --dim N=1), got '${entry}'`);
    dims[match[1]!] = Number(match[2]);
  }
  return dims;
}

export const compareCommand: Command = {
  name: 'compare',
  usage: 'modelpass compare <a> <b> [--inputs DIR | --seed N] [--dim NAME=SIZE]... [--engine ort|reference] [--json]',
  summary:
    'Run two models on the same inputs and compare their outputs: max absolute and relative error, cosine similarity, ' +
    'top-1 agreement for classifiers. Inputs are random (seeded) unless --inputs names .npy/.pb files or a folder of them.',
  flags: {
    inputs: { type: 'string', help: 'folder (or file) of inputs: <input>.npy, input_N.npy or input_N.pb', valueName: 'DIR' },
    seed: { type: 'string', help: 'seed for random inputs (default 0)', valueName: 'N' },
    dim: { type: 'list', help: 'size of a symbolic dimension for random inputs', valueName: 'NAME=SIZE' },
    engine: { type: 'string', help: 'ort (default) or reference', valueName: 'ENGINE' },
    json: { type: 'boolean', help: 'print JSON: maxAbsError, maxRelError, cosine, top1Agreement, perOutput, ...' },
  },
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError('compare takes exactly two models');
    const [a, b] = args.positionals.map((p) => resolve(io.cwd, p)) as [string, string];
    const seedText = flagString(args, 'seed');
    if (seedText !== undefined && !/^\d+$/.test(seedText)) throw new UsageError(`--seed takes a non-negative integer, got '${seedText}'`);
    const inputs = flagString(args, 'inputs');
    if (inputs !== undefined && seedText !== undefined) throw new UsageError('use either --inputs or --seed, not both');
    const engine = flagString(args, 'engine') ?? 'ort';
    if (engine !== 'ort' && engine !== 'reference') throw new UsageError(`--engine takes ort or reference, got '${engine}'`);
    const report = await compareModels(a, b, {
      ...(inputs !== undefined ? { inputs: resolve(io.cwd, inputs) } : { seed: seedText !== undefined ? Number(seedText) : 0 }),
      dims: parseDims(flagList(args, 'dim')),
      engine: engine as EngineName,
    });
    if (flagBoolean(args, 'json')) {
      io.stdout(JSON.stringify(report, null, 2));
    } else {
      const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : Number.isFinite(x) ? x.toPrecision(4) : String(x));
      const lines = [
        `max abs error:  ${fmt(report.maxAbsError)}`,
        `max rel error:  ${fmt(report.maxRelError)}`,
        `cosine:         ${fmt(report.cosine)}`,
        `top-1 agreement: ${fmt(report.top1Agreement)}`,
      ];
      for (const output of report.perOutput) {
        lines.push(`  ${output.name}: max abs ${fmt(output.maxAbsError)}, max rel ${fmt(output.maxRelError)}, cosine ${fmt(output.cosine)}`);
      }
      io.stdout(lines.join('\n'));
    }
    return 0;
  },
};
