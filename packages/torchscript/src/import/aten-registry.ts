/**
 * The aten → canonical lowering table, keyed by aten name (`conv2d`, `_convolution`, …). In-place
 * variants (`relu_`, `add_`) lower like their functional form: imported graphs are SSA.
 */
import type { AtenLowering } from './lowering.js';
import { elementwiseLowerings } from './aten/elementwise.js';
import { neuralLowerings } from './aten/neural.js';
import { pythonBuiltinLowerings } from './aten/python-builtins.js';
import { pythonMinMaxLowerings } from './aten/python-min-max.js';
import { recurrentLowerings } from './aten/recurrent.js';
import { reductionLowerings } from './aten/reductions.js';
import { shapeLowerings } from './aten/shape.js';
import { creationLowerings } from './aten/creation.js';
import { mathLowerings } from './aten/math.js';
import { reshapingLowerings } from './aten/reshaping.js';
import { selectionLowerings } from './aten/selection.js';
import { poolingLowerings } from './aten/pooling.js';
import { resizeLowerings } from './aten/resize.js';
import { statisticsLowerings } from './aten/statistics.js';
import { compositeLowerings } from './aten/composite.js';
import { attentionLowerings } from './aten/attention.js';
import { recurrentCellLowerings } from './aten/recurrent-cells.js';

function buildTable(): Map<string, AtenLowering> {
  const table = new Map<string, AtenLowering>();
  for (const group of [pythonBuiltinLowerings, pythonMinMaxLowerings, elementwiseLowerings, neuralLowerings, shapeLowerings, recurrentLowerings, reductionLowerings, creationLowerings, mathLowerings, reshapingLowerings, selectionLowerings, poolingLowerings, resizeLowerings, statisticsLowerings, compositeLowerings, attentionLowerings, recurrentCellLowerings]) {
    for (const [name, lowering] of group) {
      if (table.has(name)) throw new Error(`aten lowering '${name}' registered twice`);
      table.set(name, lowering);
    }
  }
  for (const [name, lowering] of [...table]) {
    if (!name.endsWith('_') && !name.startsWith('_') && !name.includes('_') && !table.has(`${name}_`)) table.set(`${name}_`, lowering);
  }
  for (const name of ['hardswish', 'hardsigmoid', 'hardtanh', 'leaky_relu', 'dropout', 'feature_dropout', 'alpha_dropout', 'floor_divide', 'clamp_']) {
    const base = name.endsWith('_') ? name.slice(0, -1) : name;
    if (table.has(base) && !table.has(`${base}_`)) table.set(`${base}_`, table.get(base)!);
  }
  return table;
}

/** Every aten op the importer lowers; anything else is refused with the op name and source location. */
export const atenLowerings: ReadonlyMap<string, AtenLowering> = buildTable();
