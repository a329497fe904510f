/**
 * Textual IR (`.mpir`) → `parseModel`. Seeds: the packages' golden .mpir fixtures and the real
 * ONNX seeds printed with `printModel`; token-level mutation (unknown names, nesting, unicode, huge
 * numbers, splices of two seeds). Property for accepted text: print → parse → print is stable.
 */
import { parseModel, printModel } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { mutateText, tokenize } from '../mutate-text.mjs';
import { PropertyViolation, step } from '../property.mjs';
import { corpusFiles, mpirFixtureFiles, onnxModelFiles, pickSeed, readSeeds } from '../seeds.mjs';

const decoder = new TextDecoder();

function loadMpirSeeds(options) {
  const seeds = readSeeds([...mpirFixtureFiles(), ...corpusFiles(options.corpus)]).map((s) => ({ name: s.name, text: decoder.decode(s.bytes) }));
  // Every 4th ONNX seed, printed: real graphs with subgraphs, functions, every dtype.
  for (const s of readSeeds(onnxModelFiles().filter((_, i) => i % 4 === 0))) {
    try {
      seeds.push({ name: `${s.name} (printed)`, text: printModel(decodeOnnx(s.bytes)) });
    } catch {
      // A seed modelpass cannot import yet is not an .mpir seed.
    }
  }
  return seeds;
}

function dictionaryOf(seeds) {
  const counts = new Map();
  for (const seed of seeds.slice(0, 400)) for (const token of tokenize(seed.text)) if (!/^\s+$/.test(token) && token.length < 40) counts.set(token, (counts.get(token) ?? 0) + 1);
  return [...counts.keys()].sort();
}

export const mpirTarget = {
  name: 'mpir',
  extension: 'mpir',
  inputKind: 'text',
  setup(options) {
    const seeds = loadMpirSeeds(options);
    return { seeds, dictionary: dictionaryOf(seeds) };
  },
  generate(rng, state) {
    const seed = pickSeed(rng, state.seeds, 16 * 1024).text;
    return mutateText(rng, seed, state.dictionary, pickSeed(rng, state.seeds, 16 * 1024).text);
  },
  parse: (input) => parseModel(input, { file: 'fuzz-input.mpir' }),
  check(model) {
    const first = step('mpir-print-parse-print', 'printModel of an accepted model', () => printModel(model));
    const again = step('mpir-print-parse-print', 'parseModel of the printed model', () => parseModel(first, { file: 'fuzz-printed.mpir' }));
    const second = step('mpir-print-parse-print', 'printModel again', () => printModel(again));
    if (first !== second) throw new PropertyViolation('mpir-print-parse-print', `print(parse(print(m))) differs from print(m) at character ${firstDifference(first, second)}`);
  },
};

function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}
