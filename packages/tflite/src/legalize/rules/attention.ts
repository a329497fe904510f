/**
 * Transformer ops of opset 23 written with TFLite builtins (static shapes):
 * - RotaryEmbedding: the cos/sin rows of each (batch, position) are picked offline from constant
 *   caches (GATHER at run time for run-time position_ids), the rotated features are cut by
 *   STRIDED_SLICE (split halves) or RESHAPE + UNPACK (interleaved pairs), rotated with MUL/SUB/ADD and
 *   put back by CONCATENATION (PACK + RESHAPE when interleaved). A 3-D input is viewed as
 *   [batch, seq, heads, head_size].
 * - Attention: see `attention-op.ts`.
 */
import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter, tensorTypeOf } from '../lowering-tools.js';

const none = { fused_activation_function: 'NONE' };

/** STRIDED_SLICE of `[from, to)` along the last axis. */
export function lastAxisSlice(emit: TfliteEmitter, value: Value, from: number, to: number, name: string): Value {
  const dims = staticDims(value)!;
  const rank = dims.length;
  const whole = (1 << (rank - 1)) - 1;
  return emit.op1(
    'STRIDED_SLICE',
    [value, emit.int32([...new Array<number>(rank - 1).fill(0), from], [rank], `${name}_begin`), emit.int32([...new Array<number>(rank - 1).fill(0), to], [rank], `${name}_end`), emit.int32(new Array<number>(rank).fill(1), [rank], `${name}_strides`)],
    { begin_mask: whole, end_mask: whole, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 },
    tensorType('float32', [...dims.slice(0, -1), to - from]),
  );
}

interface RotaryGeometry {
  readonly batch: number;
  readonly heads: number;
  readonly seq: number;
  readonly size: number;
  readonly rotary: number;
  readonly fourD: boolean;
}

function rotaryGeometry(node: Node): RotaryGeometry | string {
  const dims = staticDims(node.inputs[0]);
  if (!dims || (dims.length !== 3 && dims.length !== 4)) return 'RotaryEmbedding needs a static 3-D or 4-D input';
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'RotaryEmbedding is lowered for float32 only';
  const fourD = dims.length === 4;
  const heads = fourD ? dims[1]! : (node.optionalAttr('num_heads', 'int') ?? 0);
  if (!fourD && (heads < 1 || dims[2]! % heads !== 0)) return 'a 3-D input needs num_heads dividing its hidden size';
  const size = fourD ? dims[3]! : dims[2]! / heads;
  const rotary = node.optionalAttr('rotary_embedding_dim', 'int') || size;
  if (rotary % 2 !== 0 || rotary > size) return `rotary_embedding_dim ${rotary} must be even and at most the head size ${size}`;
  const [batch, seq] = fourD ? [dims[0]!, dims[2]!] : [dims[0]!, dims[1]!];
  const caches = [constantOf(node.inputs[1]), constantOf(node.inputs[2])];
  if (node.inputs[3] && !constantOf(node.inputs[3]) && caches.some((cache) => !cache)) return 'with run-time position_ids the caches must be constants';
  if (!node.inputs[3] && caches.some((cache) => !cache) && staticDims(node.inputs[1])?.join() !== [batch, seq, rotary / 2].join()) return 'cos/sin without position_ids must be [batch, seq, rotary_embedding_dim/2]';
  return { batch, heads, seq, size, rotary, fourD };
}

/** cos or sin per (batch, position), shaped to broadcast over the heads: [B, 1, S, d/2] (4-D input) or [B, S, 1, d/2]. */
function angleTable(emit: TfliteEmitter, node: Node, g: RotaryGeometry, index: 1 | 2): Value {
  const half = g.rotary / 2;
  const shape = g.fourD ? [g.batch, 1, g.seq, half] : [g.batch, g.seq, 1, half];
  const cache = constantOf(node.inputs[index]);
  const ids = node.inputs[3] ? constantOf(node.inputs[3])?.toNumbers() : Array.from({ length: g.batch * g.seq }, (_, i) => i);
  if (cache && ids) {
    const rows = cache.toNumbers();
    const values = ids.flatMap((row) => rows.slice(row * half, (row + 1) * half));
    return emit.constant(Tensor.fromValues('float32', shape, values), index === 1 ? 'cos' : 'sin');
  }
  const picked = node.inputs[3]
    ? emit.op1('GATHER', [node.input(index), node.input(3)], { axis: 0, batch_dims: 0 }, tensorType('float32', [g.batch, g.seq, half]))
    : node.input(index);
  return emit.op1('RESHAPE', [picked, emit.int32(shape, [4], `${index === 1 ? 'cos' : 'sin'}_shape`)], {}, tensorType('float32', shape));
}

function lowerRotary(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const g = rotaryGeometry(node) as RotaryGeometry;
  const half = g.rotary / 2;
  const viewShape = g.fourD ? [g.batch, g.heads, g.seq, g.size] : [g.batch, g.seq, g.heads, g.size];
  let x = node.input(0);
  if (!g.fourD) x = emit.op1('RESHAPE', [x, emit.int32(viewShape, [4], 'heads_shape')], {}, tensorType('float32', viewShape));
  const cos = angleTable(emit, node, g, 1);
  const sin = angleTable(emit, node, g, 2);
  const lead = viewShape.slice(0, 3);
  const halfType = tensorType('float32', [...lead, half]);
  const rotated = g.rotary === g.size ? x : lastAxisSlice(emit, x, 0, g.rotary, 'rotated');
  const interleaved = (node.optionalAttr('interleaved', 'int') ?? 0) === 1;
  let x1: Value;
  let x2: Value;
  if (interleaved) {
    const pairs = emit.op1('RESHAPE', [rotated, emit.int32([...lead, half, 2], [5], 'pairs_shape')], {}, tensorType('float32', [...lead, half, 2]));
    [x1, x2] = emit.op('UNPACK', [pairs], { num: 2, axis: 4 }, [halfType, halfType]).outputs.map((v) => v!) as [Value, Value];
  } else {
    x1 = lastAxisSlice(emit, rotated, 0, half, 'first');
    x2 = lastAxisSlice(emit, rotated, half, g.rotary, 'second');
  }
  const mul = (a: Value, b: Value) => emit.op1('MUL', [a, b], none, halfType);
  const out1 = emit.op1('SUB', [mul(x1, cos), mul(x2, sin)], none, halfType);
  const out2 = emit.op1('ADD', [mul(x2, cos), mul(x1, sin)], none, halfType);
  const rotaryType = tensorType('float32', [...lead, g.rotary]);
  const joined = interleaved
    ? emit.op1('RESHAPE', [emit.op1('PACK', [out1, out2], { values_count: 2, axis: 4 }, tensorType('float32', [...lead, half, 2])), emit.int32([...lead, g.rotary], [4], 'rotary_shape')], {}, rotaryType)
    : emit.op1('CONCATENATION', [out1, out2], { axis: 3, fused_activation_function: 'NONE' }, rotaryType);
  let y = g.rotary === g.size ? joined : emit.op1('CONCATENATION', [joined, lastAxisSlice(emit, x, g.rotary, g.size, 'passed')], { axis: 3, fused_activation_function: 'NONE' }, tensorType('float32', viewShape));
  if (!g.fourD) y = emit.op1('RESHAPE', [y, emit.int32(staticDims(node.inputs[0])!, [3], 'out_shape')], {}, node.output(0).type);
  replaceNode(node, [y]);
}

export const attentionRules: readonly LoweringRule[] = [
  {
    ops: ['onnx.RotaryEmbedding'],
    stage: 'lower',
    targets: ['RESHAPE', 'GATHER', 'STRIDED_SLICE', 'UNPACK', 'MUL', 'SUB', 'ADD', 'PACK', 'CONCATENATION'],
    check: (node) => {
      const geometry = rotaryGeometry(node);
      return typeof geometry === 'string' ? geometry : undefined;
    },
    lower: lowerRotary,
  },
];
