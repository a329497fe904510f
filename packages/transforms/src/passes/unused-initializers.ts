import { definePass } from '@modelpass/pass-manager';
import { removeDeadCode } from '../util/dead-code.js';
import { preserved } from './pattern-pass.js';

export const eliminateUnusedInitializers = definePass({
  name: 'eliminate-unused-initializers',
  summary: 'Remove initializers (that are not graph inputs) nobody uses, in every graph',
  statistics: ['initializers-removed', 'bytes-saved'],
  run(model, context) {
    const result = removeDeadCode(model, { filter: (item) => !('op' in item) });
    context.statistic('initializers-removed', result.constantsRemoved);
    context.statistic('bytes-saved', result.bytesSaved);
    return preserved(context, result.constantsRemoved > 0);
  },
});
