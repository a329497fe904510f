import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, printModel } from '@modelpass/ir';

const fixtureDir = fileURLToPath(new URL('./fixtures/mpir/', import.meta.url));
const seeds = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.mpir'))
  .map((f) => readFileSync(fixtureDir + f, 'utf8'));

/** A small deterministic PRNG (mulberry32), so a failure reproduces from its case number. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tokens = ['(', ')', '{', '}', '[', ']', '<', '>', ',', '=', '%', '@', '"', '\\', ':', '-', '.', 'null', 'graph', 'return', 'tensor', 'float32', '1e999', '-0', 'nan', '\n', ' ', '0x', '%x', 'onnx.Relu'];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    if (kind < 0.3) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
    else if (kind < 0.6) out = out.slice(0, at) + tokens[Math.floor(random() * tokens.length)]! + out.slice(at);
    else if (kind < 0.8) out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + out.slice(at + 1);
    else out = out.slice(0, at);
  }
  return out;
}

describe('textual IR parser under mutated input', () => {
  it('either parses (and then round-trips) or throws a located ModelpassError — never anything else', () => {
    expect(seeds.length).toBeGreaterThan(0);
    const random = prng(20261129);
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const text = mutate(seeds[i % seeds.length]!, random);
      let model;
      try {
        model = parseModel(text, { file: `case-${i}.mpir` });
      } catch (error) {
        if (!(error instanceof ModelpassError)) {
          throw new Error(`case ${i}: ${(error as Error).name}: ${(error as Error).message}\n--- input ---\n${text}`);
        }
        expect(error.location?.file, `case ${i}`).toBe(`case-${i}.mpir`);
        expect(error.location?.line, `case ${i}: ${error.message}`).toBeGreaterThan(0);
        rejected++;
        continue;
      }
      accepted++;
      // Mutations may point file references elsewhere: print them as references, never read them.
      const printed = printModel(model, { referenceFileData: true });
      expect(printModel(parseModel(printed), { referenceFileData: true }), `case ${i}`).toBe(printed);
    }
    console.log(`mpir fuzz: ${accepted} mutated inputs accepted (and round-tripped), ${rejected} rejected with located errors`);
    expect(rejected).toBeGreaterThan(1000);
  });
});
