/**
 * float16 compute torch cannot run on CPU (QA s13 R4: a convert-float16 MLP written as .pt loaded, then failed at run
 * time "addmm_impl_cpu_ not implemented for 'Half'"). Checked by hand in torch 1.13 (Debian, CPU): matmul/addmm/bmm,
 * conv, pooling (but adaptive average), relu/clamp, sigmoid, tanh, gelu, softmax, exp/log/sqrt/erf/rsqrt, the norms,
 * interpolation, cumsum, topk, reflection padding, floor/ceil/round have no Half CPU kernel; element-wise arithmetic,
 * comparisons, where, reductions by sum/mean/max/min, and data movement do. The writer refuses the rest rather than
 * write a file that fails when run, or change the model's dtypes behind the user's back.
 */
import { isTensorType, type Graph, type Node } from '@modelpass/ir';

/** ONNX ops whose torch spelling runs on float16 tensors on CPU in torch 1.13. */
const HALF_ON_CPU = new Set(
  [
    'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Abs', 'Reciprocal', 'Sign', 'Min', 'Max', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
    'Where', 'IsNaN', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ArgMax', 'ArgMin', 'GlobalAveragePool', 'Concat', 'Split', 'Slice', 'Gather',
    'GatherElements', 'ScatterElements', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Expand', 'Tile', 'Shape', 'Size', 'Cast', 'CastLike',
    'Identity', 'Constant', 'ConstantOfShape', 'Trilu',
  ].map((op) => `onnx.${op}`),
);

function readsOrWritesFloat16(node: Node): boolean {
  return [...node.inputs, ...node.outputs].some((value) => !!value && isTensorType(value.type) && value.type.dtype === 'float16');
}

/** Nodes computing on float16 that torch 1.13 has no CPU kernel for, by op (an empty map when there are none). */
export function float16WithoutCpuKernels(graph: Graph): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const node of graph.allNodes()) {
    if (node.subgraphs.length > 0 || !readsOrWritesFloat16(node)) continue;
    if (HALF_ON_CPU.has(node.op)) continue;
    const names = found.get(node.op) ?? [];
    names.push(node.name);
    found.set(node.op, names);
  }
  return found;
}
