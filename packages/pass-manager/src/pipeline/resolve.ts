import { optionValueFromText } from '../option-value.js';
import { camelCase, kebabCase, type OptionSpecs } from '../option.js';
import type { PassRegistry } from '../pass-registry.js';
import { closestName } from '../suggest.js';
import { ANCHORS } from './anchors.js';
import type { OptionAst, PipelineAst, PipelineElementAst } from './ast.js';
import { makeAnchorStep, type Pipeline, type PipelineStep } from './pipeline.js';
import { parsePipelineSyntax, pipelineError, type PipelineSyntaxOptions } from './syntax.js';

/**
 * Phase 2 of pipeline parsing: names against the registry, options against each pass's typed
 * specs. Errors point at the column of the offending name, option or value.
 */
export function resolvePipeline(ast: PipelineAst, registry: PassRegistry, text?: string): Pipeline {
  return Object.freeze({ steps: Object.freeze(ast.elements.map((element) => resolveElement(element, registry, text))) });
}

/** Pipeline text → resolved pipeline (both phases). */
export function parsePipeline(text: string, registry: PassRegistry, options: PipelineSyntaxOptions = {}): Pipeline {
  return resolvePipeline(parsePipelineSyntax(text, options), registry, text);
}

function resolveElement(element: PipelineElementAst, registry: PassRegistry, text: string | undefined): PipelineStep {
  const anchor = ANCHORS.get(element.name);
  if (anchor) {
    const what = `anchor '${anchor.name}'`;
    const options = resolveOptions(element.options, anchor.options, what, text);
    for (const name of anchor.required) {
      if (options[name] === undefined) {
        throw pipelineError(text, element.column, `${what} needs option '${kebabCase(name)}'`, { code: 'pipeline/missing-option', hint: `write ${anchor.name}{${kebabCase(name)}=…}(…)` });
      }
    }
    if (!element.nested) {
      throw pipelineError(text, element.column, `${what} needs a nested pipeline in parentheses`, { code: 'pipeline/missing-nested', hint: `write ${anchor.name}{…}(pass-a,pass-b)` });
    }
    const steps = element.nested.elements.map((inner) => resolveElement(inner, registry, text));
    return makeAnchorStep(anchor.name, options, steps, element.column);
  }
  const entry = registry.entry(element.name);
  if (!entry) {
    const suggestions = registry.suggestAll(element.name);
    throw pipelineError(text, element.column, `unknown pass '${element.name}'`, {
      code: 'pipeline/unknown-pass',
      ...(suggestions.length > 1 ? { suggestions } : suggestions.length === 1 ? { suggestion: suggestions[0]! } : { hint: 'list the registered passes with `modelpass passes`' }),
    });
  }
  if (element.nested) {
    throw pipelineError(text, element.column, `pass '${element.name}' does not take a nested pipeline`, {
      code: 'pipeline/unexpected-nested',
      hint: `only the anchors ${[...ANCHORS.keys()].join(', ')} hold nested pipelines`,
    });
  }
  const options = resolveOptions(element.options, entry.pass.options, `pass '${element.name}'`, text);
  return Object.freeze({ kind: 'pass', pass: entry.pass, owner: entry.owner, options, column: element.column });
}

function resolveOptions(options: readonly OptionAst[], specs: OptionSpecs, what: string, text: string | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  const known = Object.keys(specs).map(kebabCase);
  for (const option of options) {
    const name = camelCase(option.key);
    // Own properties only: `constructor` or `__proto__` must not find Object.prototype's.
    const spec = kebabCase(name) === option.key && Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      const suggestion = closestName(option.key, known);
      throw pipelineError(text, option.column, `unknown option '${option.key}' of ${what}`, {
        code: 'pipeline/unknown-option',
        expected: known.length ? `one of ${known.join(', ')}` : `no options (${what} takes none)`,
        ...(suggestion !== undefined ? { suggestion } : { hint: known.length ? `its options are ${known.join(', ')}` : `${what} takes no options` }),
      });
    }
    const previous = seen.get(option.key);
    if (previous !== undefined) {
      throw pipelineError(text, option.column, `option '${option.key}' of ${what} is given twice (first at 1:${previous})`, { code: 'pipeline/duplicate-option' });
    }
    seen.set(option.key, option.column);
    const result = optionValueFromText(spec, option.value);
    if ('problem' in result) {
      const { problem } = result;
      throw pipelineError(text, problem.column ?? option.value.column, `option '${option.key}' of ${what} ${problem.reason}`, {
        code: 'pipeline/bad-option',
        ...(problem.suggestion !== undefined ? { suggestion: problem.suggestion } : {}),
      });
    }
    values[name] = result.value;
  }
  return Object.freeze(values);
}
