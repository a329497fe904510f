import { definePass } from '@modelpass/pass-manager';
import { removeDeadCode } from '../util/dead-code.js';
import { preserved } from './pattern-pass.js';

export const dce = definePass({
  name: 'dce',
  summary: 'Remove nodes whose outputs nobody reads and initializers nobody uses',
  description:
    'Erases, to a fixed point and in every subgraph, nodes none of whose outputs are used (by a node, a subgraph or a graph output) ' +
    'and constants that are not graph inputs and have no use. Graph inputs and outputs are never removed.',
  statistics: ['nodes-removed', 'initializers-removed', 'bytes-saved'],
  run(model, context) {
    const result = removeDeadCode(model);
    context.statistic('nodes-removed', result.nodesRemoved);
    context.statistic('initializers-removed', result.constantsRemoved);
    context.statistic('bytes-saved', result.bytesSaved);
    return preserved(context, result.nodesRemoved + result.constantsRemoved > 0);
  },
});
