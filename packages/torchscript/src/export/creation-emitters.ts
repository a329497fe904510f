/** Tensors made from bounds or a shape: Range as `torch.arange`, ConstantOfShape as `torch.full`. */
import { isTensorType } from '@modelpass/ir';
import { pyFloat, pyInts, type OpEmitter } from './emit-context.js';
import { input } from './emit-operands.js';

/** Range(start, limit, delta) of scalars → `torch.arange`, each bound a literal when constant, else read as a Python number. */
const range: OpEmitter = (e, node) => {
  const value = node.inputs[0] ?? null;
  const dtype = value && isTensorType(value.type) ? value.type.dtype : undefined;
  const integral = dtype === 'int64' || dtype === 'int32';
  if (!integral && dtype !== 'float32' && dtype !== 'float64') return e.fail(node, `a Range of ${dtype ?? 'unknown dtype'}`);
  const bound = (index: number): string => {
    const known = e.constantNumber(node.inputs[index] ?? null);
    if (known !== undefined) return integral ? String(known) : pyFloat(known);
    return `${integral ? 'int' : 'float'}(${input(e, node, index)})`;
  };
  const torchDtype = { int64: 4, int32: 3, float32: 6, float64: 7 }[dtype];
  e.assign(node, `torch.arange(${bound(0)}, ${bound(1)}, ${bound(2)}, dtype=${torchDtype})`);
};

const constantOfShape: OpEmitter = (e, node) => {
  const fill = node.optionalAttr('value', 'tensor');
  const dtype = fill ? fill.dtype : 'float32';
  // torch ScalarType codes (c10/core/ScalarType.h).
  const torchDtype = ({ uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11 } as Record<string, number>)[dtype];
  if (torchDtype === undefined) return e.fail(node, `a ${dtype} fill value`);
  const value = fill ? fill.toNumbers()[0]! : 0;
  const known = e.constantInts(node.inputs[0] ?? null);
  // aten::full's fill_value is a 'number' in TorchScript: a bool literal does not compile (torch 1.13), so a bool fill is
  // 1 or 0 with dtype=bool. int64 fills keep every digit (toNumbers would round past 2^53).
  const literal = dtype === 'bool' ? (value ? '1' : '0') : dtype.startsWith('float') ? pyFloat(value) : dtype === 'int64' ? String(fill ? (fill.data() as BigInt64Array)[0]! : 0) : String(value);
  if (known) {
    e.assign(node, `torch.full(${pyInts(known)}, ${literal}, dtype=${torchDtype})`);
    return;
  }
  const list = `${e.name(node.output(0))}_shape`;
  e.line(`${list} : List[int] = (${input(e, node)}).tolist()`);
  e.assign(node, `torch.full(${list}, ${literal}, dtype=${torchDtype})`);
};

export const creationEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Range', range],
  ['onnx.ConstantOfShape', constantOfShape],
];
