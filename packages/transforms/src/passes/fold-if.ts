import { definePass } from '@modelpass/pass-manager';
import type { Graph, Model, Node } from '@modelpass/ir';
import { constantOf } from '../util/constants.js';
import { inlineBranch, whyBranchCannotBeInlined } from '../util/inline-branch.js';
import { preserved } from './pattern-pass.js';

/**
 * The branch an If takes when its condition is a known constant: ONNX reads `cond` as a single
 * element, any numeric type, nonzero meaning true. Undefined when the condition is computed at run time
 * (or is not a one-element numeric constant).
 */
export function takenBranch(ifNode: Node): { branch: Graph; taken: 'then_branch' | 'else_branch' } | undefined {
  const condition = constantOf(ifNode.inputs[0]);
  if (!condition || condition.dtype === 'string' || condition.size !== 1) return undefined;
  const taken = condition.toNumbers()[0] !== 0 ? 'then_branch' : 'else_branch';
  const attribute = ifNode.getAttribute(taken);
  if (attribute?.kind !== 'graph') return undefined;
  return { branch: attribute.value, taken };
}

/** Inlines, outermost first and then inside what was inlined, every If whose condition is constant. */
export function foldConstantIfs(model: Model, debug: (message: string) => void = () => {}): { ifsInlined: number; nodesMoved: number } {
  const result = { ifsInlined: 0, nodesMoved: 0 };
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of model.graph.allNodesOf('onnx.If')) {
      if (!node.graph) continue;
      const choice = takenBranch(node);
      if (!choice) continue;
      const why = whyBranchCannotBeInlined(node, choice.branch);
      if (why) {
        debug(`${node.graph.pathTo(node)}: constant condition, not inlined: ${why}`);
        continue;
      }
      const path = node.graph.pathTo(node);
      const inlined = inlineBranch(node, choice.branch);
      debug(`${path}: inlined ${choice.taken} (${inlined.nodesMoved} node(s), ${inlined.constantsMoved} initializer(s))`);
      result.ifsInlined++;
      result.nodesMoved += inlined.nodesMoved;
      changed = true;
      break; // the walk's graphs changed under it: start again
    }
  }
  return result;
}

export const foldIf = definePass({
  name: 'fold-if',
  summary: 'Replace an If whose condition is a constant by the nodes of the branch it takes',
  description:
    'An onnx.If whose cond is a one-element constant (bool or any numeric type; nonzero is true) is replaced by the taken ' +
    "branch's nodes and initializers, placed where the If was; nested subgraphs move intact. The If's outputs keep their names " +
    '(an onnx.Identity produces one when the branch returns an outer value, a constant or one value twice). Ifs inside ' +
    'subgraphs are folded too. Run fold-constants / fold-shapes first (simplify does) to make more conditions constant.',
  statistics: ['ifs-inlined', 'nodes-moved'],
  run(model, context) {
    const result = foldConstantIfs(model, (message) => context.debug(message));
    context.statistic('ifs-inlined', result.ifsInlined);
    context.statistic('nodes-moved', result.nodesMoved);
    return preserved(context, result.ifsInlined > 0);
  },
});
