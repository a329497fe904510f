// Part 3 of the quantization bench: calibration peak memory and time per method, measured by
// calibration-memory.mjs (another script of this folder, each point in a fresh process) and pulled
// into this run's results. When that script is missing or fails, the part says so instead of numbers.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const SCRIPT = join(ROOT, 'tools/bench/quantize/calibration-memory.mjs');

export function runMemory({ model, samples, methods, repeat, work, log }) {
  if (!existsSync(SCRIPT)) return { error: 'not available (tools/bench/quantize/calibration-memory.mjs is not there)' };
  const json = join(work, 'calibration-memory.json');
  const args = [SCRIPT, '--model', model, '--samples', samples.join(','), '--methods', methods.join(','), '--repeat', String(repeat), '--json', json];
  log(`calibration memory: node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`);
  try {
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 16 << 20 });
  } catch (error) {
    return { error: `calibration-memory.mjs failed: ${String(error.stderr || error.message).trim().split('\n').slice(-1)[0]}` };
  }
  const result = JSON.parse(readFileSync(json, 'utf8'));
  return { ...result, command: `node tools/bench/quantize/calibration-memory.mjs --model ${model.replace(`${ROOT}/`, '')} --samples ${samples.join(',')} --methods ${methods.join(',')} --repeat ${repeat}` };
}
