/**
 * Which onnx opset a set of quant types needs, and whether raising the model's import to it is safe:
 * only when no op of the model got a new ONNX definition in between (the table comes from ONNX's
 * Operators.md). A blind bump would silently change what e.g. ReduceMean or Split mean.
 */
import { ModelpassError, type Model, type Value } from '@modelpass/ir';
import { graphsOfModel } from '../util/graph-walk.js';
import { ONNX_OP_VERSIONS } from './generated/onnx-op-versions.js';
import { requiredOpset, type QuantizedTensorType } from './storage-types.js';

/** Q/DQ changed only by adding options, so nodes already there keep their meaning. */
const COMPATIBLE_ACROSS_VERSIONS = new Set(['QuantizeLinear', 'DequantizeLinear']);
/** IR version 10 introduced int4/uint4 tensors. */
const INT4_IR_VERSION = 10;
/** The first IR version of the ONNX release that introduced each opset we may raise to (onnx/docs/Versioning.md). */
const IR_VERSION_OF_OPSET: ReadonlyMap<number, number> = new Map([
  [10, 5],
  [13, 7],
  [21, 10],
]);

function raiseOpset(model: Model, opset: number): void {
  model.opsetImports.set('onnx', opset);
  const ir = IR_VERSION_OF_OPSET.get(opset);
  if (ir !== undefined && model.irVersion !== undefined && model.irVersion < ir) model.irVersion = ir;
}

/** Ops of the model (default domain) that ONNX redefined after `from` up to `to`, with the version. */
export function opsRedefinedBetween(model: Model, from: number, to: number): string[] {
  const changed = new Set<string>();
  for (const graph of graphsOfModel(model)) {
    for (const node of graph.nodes()) {
      if (node.dialect !== 'onnx' || COMPATIBLE_ACROSS_VERSIONS.has(node.opType)) continue;
      const versions = ONNX_OP_VERSIONS.get(node.opType);
      const newer = versions ? versions.find((v) => v > from && v <= to) : to;
      if (newer !== undefined) changed.add(versions ? `${node.opType} (new definition in opset ${newer})` : `${node.opType} (not a known ONNX op)`);
    }
  }
  return [...changed].sort();
}

/**
 * Refuses (a ModelpassError naming the value, the opset it needs and why) when the model's onnx
 * import is too old, or raises it when `bump` is set and nothing in between changed. Returns true
 * when it raised the import.
 */
export function checkOpset(model: Model, entries: readonly { value: Value; type: QuantizedTensorType }[], bump: boolean): boolean {
  let needed = { opset: 0, because: '', value: undefined as Value | undefined };
  for (const { value, type } of entries) {
    const required = requiredOpset(type);
    if (required.opset > needed.opset) needed = { ...required, value };
  }
  const raiseIrForInt4 = () => {
    const int4 = entries.some(({ type }) => type.dtype === 'int4' || type.dtype === 'uint4');
    if (int4 && model.irVersion !== undefined && model.irVersion < INT4_IR_VERSION) model.irVersion = INT4_IR_VERSION;
  };
  const current = model.opset('onnx');
  if (current === undefined || current >= needed.opset) {
    if (current === undefined) raiseOpset(model, needed.opset);
    raiseIrForInt4();
    return false;
  }
  const value = needed.value!;
  const blocking = opsRedefinedBetween(model, current, needed.opset);
  if (bump && blocking.length === 0) {
    raiseOpset(model, needed.opset);
    raiseIrForInt4();
    return true;
  }
  throw new ModelpassError({
    reason: `value '${value.name}' needs onnx opset ${needed.opset} for ${needed.because} (QuantizeLinear/DequantizeLinear), the model imports opset ${current}`,
    location: value.producer ? value.producer.location : { path: value.graph.path() },
    source: '@modelpass/transforms',
    expected: `onnx opset >= ${needed.opset}`,
    actual: `opset ${current}`,
    ...(bump ? { notes: [`cannot raise the import: these ops of the model have a newer definition: ${blocking.join(', ')}`] } : {}),
    hint: bump
      ? 'convert the model to the newer opset first, or choose a storage type / per-tensor scales that the current opset supports'
      : `pass materialize-qdq{bump-opset=true} to raise the import (allowed when no op of the model changed in between), or use per-tensor int8/uint8`,
  });
}
