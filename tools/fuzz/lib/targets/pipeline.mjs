/**
 * Pipeline text → `parsePipeline` against the built-in passes of @modelpass/transforms plus one
 * fuzz-only pass declaring every option kind (number, integer, boolean, string with a pattern,
 * enum, lists) so that option-value parsing is reached. Inputs: structured random pipelines
 * (anchors, nesting, options, quoting) mutated at the token level. Properties for accepted text:
 * print → parse → print is stable, for the resolved pipeline and for the syntax tree alone.
 */
import { PassEnvironment, definePass, option, parsePipeline, parsePipelineSyntax, printPipeline, printPipelineAst, describePasses, ANCHORS } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import { mutateText, tokenize } from '../mutate-text.mjs';
import { PropertyViolation, step } from '../property.mjs';
import { corpusFiles, readSeeds } from '../seeds.mjs';

const everyOptionKind = definePass({
  name: 'fuzz-every-option-kind',
  summary: 'Declares one option of every kind; the fuzzer only parses pipelines naming it, never runs it',
  options: {
    ratio: option.number({ default: 0.5, min: 0, max: 1 }),
    count: option.integer({ min: -3, max: 1000000 }),
    enabled: option.boolean({ default: false }),
    label: option.string({ pattern: '[a-z][a-z0-9-]*' }),
    text: option.string({}),
    scheme: option.enum(['int8', 'uint8', 'int4', 'float16'], { default: 'int8' }),
    axes: option.list(option.integer({ min: -8, max: 8 }), {}),
    names: option.list(option.string({}), {}),
    modes: option.list(option.enum(['a', 'b-c'], {}), {}),
    flags: option.list(option.boolean({}), {}),
  },
  run() {
    throw new Error('fuzz-every-option-kind is never run');
  },
});

function scalarFor(rng, spec) {
  switch (spec.kind) {
    case 'number':
      return rng.weighted([[4, String(rng.range(-3, 20))], [2, String(rng.float())], [1, rng.pick(['1e308', '-0', '0x10', 'NaN', 'Infinity', '1e-7', '.5', '9007199254740993', '1_0'])]]);
    case 'boolean':
      return rng.pick(['true', 'false', 'True', '1', '0', 'yes']);
    case 'enum':
      return rng.chance(0.85) ? rng.pick(spec.values) : rng.pick(['INT8', 'int9', '']);
    case 'string':
      return rng.weighted([[3, 'abc'], [2, `"${rng.pick(['a b', 'x\\"y', '\\u00e9', '\\n', '', '\\uD800', '\\u', '{}(),='])}"`], [1, 'Z-9']]);
    default:
      return 'x';
  }
}

function optionsText(rng, options) {
  if (!options.length || rng.chance(0.4)) return '';
  const parts = [];
  for (let i = rng.range(1, Math.min(3, options.length)); i > 0; i--) {
    const o = rng.pick(options);
    const value = o.kind === 'list'
      ? `[${Array.from({ length: rng.smallSize(4) }, () => scalarFor(rng, o.element)).join(rng.chance(0.9) ? ',' : ' ')}]`
      : scalarFor(rng, o);
    parts.push(`${o.name}=${value}`);
  }
  return `{${parts.join(' ')}}`;
}

function randomPipeline(rng, passes, depth) {
  const n = rng.weighted([[1, 0], [6, rng.range(1, 3)], [2, rng.range(4, 8)]]);
  const elements = [];
  for (let i = 0; i < n; i++) {
    if (depth < 4 && rng.chance(0.15)) {
      const anchor = rng.pick([...ANCHORS.values()]);
      const opts = anchor.name === 'repeat' ? `{times=${rng.pick(['1', '2', '3', '0', '-1', '1.5', '100000000000'])}}` : rng.chance(0.5) ? `{max-iterations=${rng.range(1, 5)}}` : '';
      elements.push(`${anchor.name}${opts}(${randomPipeline(rng, passes, depth + 1)})`);
    } else {
      const pass = rng.pick(passes);
      elements.push(pass.name + optionsText(rng, pass.options.map((o) => ({ ...o, name: o.name }))));
    }
  }
  return elements.join(rng.chance(0.9) ? ',' : ' , ');
}

export const pipelineTarget = {
  name: 'pipeline',
  extension: 'txt',
  inputKind: 'text',
  setup(options) {
    const environment = new PassEnvironment();
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register([everyOptionKind], 'fuzz');
    const passes = describePasses(environment.passes);
    const extra = readSeeds(corpusFiles(options.corpus)).map((s) => new TextDecoder().decode(s.bytes));
    const dictionary = [...new Set([...passes.flatMap((p) => [p.name, ...p.options.map((o) => o.name)]), ...ANCHORS.keys(), ...'{}()[],="'.split(''), 'times', 'max-iterations', ...extra.flatMap(tokenize)])];
    return { registry: environment.passes, passes, dictionary, extra };
  },
  generate(rng, state) {
    const base = state.extra.length && rng.chance(0.2) ? rng.pick(state.extra) : randomPipeline(rng, state.passes, 0);
    if (rng.chance(0.3)) return base;
    return mutateText(rng, base, state.dictionary, randomPipeline(rng, state.passes, 0));
  },
  parse: (input, state) => parsePipeline(input, state.registry),
  check(pipeline, input, state) {
    const first = step('pipeline-print-parse-print', 'printPipeline of an accepted pipeline', () => printPipeline(pipeline));
    const again = step('pipeline-print-parse-print', 'parsePipeline of the printed pipeline', () => parsePipeline(first, state.registry));
    const second = step('pipeline-print-parse-print', 'printPipeline again', () => printPipeline(again));
    if (first !== second) throw new PropertyViolation('pipeline-print-parse-print', `print(parse(print(p))) = ${JSON.stringify(second)} differs from print(p) = ${JSON.stringify(first)}`);
    const ast = step('pipeline-syntax-roundtrip', 'parsePipelineSyntax of accepted text', () => parsePipelineSyntax(input));
    const astText = step('pipeline-syntax-roundtrip', 'printPipelineAst', () => printPipelineAst(ast));
    const astAgain = step('pipeline-syntax-roundtrip', 'parsePipelineSyntax of the printed syntax tree', () => printPipelineAst(parsePipelineSyntax(astText)));
    if (astText !== astAgain) throw new PropertyViolation('pipeline-syntax-roundtrip', `printPipelineAst is not stable: ${JSON.stringify(astText)} then ${JSON.stringify(astAgain)}`);
  },
};
