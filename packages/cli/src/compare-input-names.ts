/**
 * `compare` feeds both models the same inputs by name (a TorchScript archive run on torch takes
 * them by position). Two models whose inputs are named differently — an export from another tool,
 * a TFLite file with `serving_default_x:0` — used to fail inside the second engine with "feed 'x' is
 * not an input", under a hint about initializers that did not apply; now both lists are named first.
 */
import { ModelpassError, type Model } from '@modelpass/ir';
import { feedableInputs } from '@modelpass/runtime';

interface ComparedModel {
  readonly model: Model;
  readonly path: string;
  /** The engine feeds this model by position (torch), so its input names do not matter. */
  readonly byPosition: boolean;
}

const quoted = (names: readonly string[]) => (names.length ? names.map((name) => `'${name}'`).join(', ') : 'no inputs');

/**
 * Throws when the second model, fed by name, does not take exactly the first model's inputs. Names in
 * `fixed` (`compare --input-value`) may be taken by one model only: the other had them made constants.
 */
export function checkSameInputNames(a: ComparedModel, b: ComparedModel, fixed: ReadonlySet<string> = new Set()): void {
  if (b.byPosition) return;
  const namesA = feedableInputs(a.model).map((input) => input.name).filter((name) => !fixed.has(name));
  const namesB = feedableInputs(b.model).map((input) => input.name).filter((name) => !fixed.has(name));
  if (namesA.length === namesB.length && namesA.every((name) => namesB.includes(name))) return;
  const sameCount = namesA.length === namesB.length;
  throw new ModelpassError({
    reason: `the two models take different inputs: '${a.path}' takes ${quoted(namesA)}, '${b.path}' takes ${quoted(namesB)}`,
    location: { file: b.path },
    code: 'cli/compare-input-names',
    source: '@modelpass/cli',
    hint: sameCount
      ? 'compare feeds both models the same inputs by name; export or convert them with the same input names (only a .pt run on torch is fed by position)'
      : 'compare runs both models on the same inputs, so they must take the same ones; an input one of them had fixed by convert --input-value NAME=VALUES is given to compare the same way',
  });
}
