/**
 * Transformer ops of opset 23 written with TFLite builtins (static shapes):
 * - RotaryEmbedding: the cos/sin rows of each (batch, position) are picked offline from constant
 *   caches (GATHER at run time for run-time position_ids), the rotated features are cut by
 *   STRIDED_SLICE (split halves) or RESHAPE + UNPACK (interleaved pairs), rotated with MUL/SUB/ADD and
 *   put back by CONCATENATION (PACK + RESHAPE when interleaved). A 3-D input is viewed as
 *   [batch, seq, heads, head_size].
 * - Attention: Q·Kᵀ by BATCH_MATMUL (adj_y), MUL by the scale, softcap as MUL/TANH/MUL, a bool
 *   mask by SELECT_V2 against the lowest float, a float mask and the causal mask (a constant) by
 *   ADD, SOFTMAX, BATCH_MATMUL by V; grouped K/V heads are repeated by GATHER along the head axis;
 *   3-D operands are viewed as [batch, heads, seq, size] by RESHAPE + TRANSPOSE and back.
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

interface AttentionGeometry {
  readonly q: [number, number, number, number];
  readonly k: [number, number, number, number];
  readonly v: [number, number, number, number];
}

function heads4(shape: readonly number[] | undefined, heads: number): [number, number, number, number] | undefined {
  if (!shape) return undefined;
  if (shape.length === 4) return shape as [number, number, number, number];
  if (shape.length === 3 && heads > 0 && shape[2]! % heads === 0) return [shape[0]!, heads, shape[1]!, shape[2]! / heads];
  return undefined;
}

function attentionGeometry(node: Node): AttentionGeometry | string {
  const [q, k, v] = [0, 1, 2].map((i) => staticDims(node.inputs[i]));
  if (!q || !k || !v) return 'Attention needs static Q, K and V shapes';
  if ([0, 1, 2].some((i) => tensorTypeOf(node.inputs[i])?.dtype !== 'float32')) return 'Attention is lowered for float32 only';
  if (node.inputs[4] || node.inputs[5]) return 'past_key/past_value (a KV cache) are not supported';
  if (node.outputs.slice(1).some((value) => value?.hasUses || value?.isGraphOutput)) return 'only the Y output is supported (not present_key/present_value/qk_matmul_output)';
  const g = { q: heads4(q, node.optionalAttr('q_num_heads', 'int') ?? 0), k: heads4(k, node.optionalAttr('kv_num_heads', 'int') ?? 0), v: heads4(v, node.optionalAttr('kv_num_heads', 'int') ?? 0) };
  if (!g.q || !g.k || !g.v) return 'Q/K/V must be 4-D, or 3-D with q_num_heads/kv_num_heads dividing the hidden size';
  if (g.q[1] % g.k[1] !== 0) return `${g.q[1]} query heads are not a multiple of ${g.k[1]} K/V heads`;
  if ((node.optionalAttr('is_causal', 'int') ?? 0) === 1 && g.q[2] !== g.k[2]) return 'is_causal with query and key sequences of different lengths is not supported';
  const mask = staticDims(node.inputs[3]);
  if (node.inputs[3] && (!mask || mask.length > 4)) return 'the mask needs a static shape of rank ≤ 4';
  return { q: g.q, k: g.k, v: g.v };
}

/** A 4-D [batch, heads, seq, size] view of operand `index` (RESHAPE + TRANSPOSE of a 3-D one). */
function asHeads(emit: TfliteEmitter, node: Node, index: number, dims: [number, number, number, number], name: string): Value {
  const value = node.input(index);
  if (staticDims(value)!.length === 4) return value;
  const [b, h, s, d] = dims;
  const split = emit.op1('RESHAPE', [value, emit.int32([b, s, h, d], [4], `${name}_split`)], {}, tensorType('float32', [b, s, h, d]));
  return emit.op1('TRANSPOSE', [split, emit.int32([0, 2, 1, 3], [4], `${name}_perm`)], {}, tensorType('float32', dims));
}

function lowerAttention(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const g = attentionGeometry(node) as AttentionGeometry;
  const [batch, qHeads, qSeq, size] = g.q;
  const [, kvHeads, kvSeq] = g.k;
  const vSize = g.v[3];
  const q = asHeads(emit, node, 0, g.q, 'q');
  let k = asHeads(emit, node, 1, g.k, 'k');
  let v = asHeads(emit, node, 2, g.v, 'v');
  if (kvHeads !== qHeads) {
    const repeat = emit.int32(Array.from({ length: qHeads }, (_, h) => Math.floor(h / (qHeads / kvHeads))), [qHeads], 'kv_heads');
    k = emit.op1('GATHER', [k, repeat], { axis: 1, batch_dims: 0 }, tensorType('float32', [batch, qHeads, kvSeq, size]));
    v = emit.op1('GATHER', [v, repeat], { axis: 1, batch_dims: 0 }, tensorType('float32', [batch, qHeads, kvSeq, vSize]));
  }
  const scoreType = tensorType('float32', [batch, qHeads, qSeq, kvSeq]);
  const f = (value: number, name: string) => emit.constant(Tensor.scalar('float32', value), name);
  let scores = emit.op1('BATCH_MATMUL', [q, k], { adj_x: 0, adj_y: 1 }, scoreType);
  scores = emit.op1('MUL', [scores, f(node.optionalAttr('scale', 'float') ?? 1 / Math.sqrt(size), 'scale')], none, scoreType);
  const softcap = node.optionalAttr('softcap', 'float') ?? 0;
  if (softcap > 0) scores = emit.op1('MUL', [emit.op1('TANH', [emit.op1('MUL', [scores, f(1 / softcap, 'inverse_softcap')], none, scoreType)], {}, scoreType), f(softcap, 'softcap')], none, scoreType);
  const lowest = -3.4028234663852886e38;
  if (node.inputs[3]) {
    const mask = node.input(3);
    scores = tensorTypeOf(mask)?.dtype === 'bool' ? emit.op1('SELECT_V2', [mask, scores, f(lowest, 'masked')], {}, scoreType) : emit.op1('ADD', [scores, mask], none, scoreType);
  }
  if ((node.optionalAttr('is_causal', 'int') ?? 0) === 1) {
    const causal = Array.from({ length: qSeq * kvSeq }, (_, index) => (index % kvSeq > Math.floor(index / kvSeq) ? lowest : 0));
    scores = emit.op1('ADD', [scores, emit.constant(Tensor.fromValues('float32', [1, 1, qSeq, kvSeq], causal), 'causal_mask')], none, scoreType);
  }
  const weights = emit.op1('SOFTMAX', [scores], { beta: 1 }, scoreType);
  let y = emit.op1('BATCH_MATMUL', [weights, v], { adj_x: 0, adj_y: 0 }, tensorType('float32', [batch, qHeads, qSeq, vSize]));
  if (staticDims(node.inputs[0])!.length === 3) {
    const merged = emit.op1('TRANSPOSE', [y, emit.int32([0, 2, 1, 3], [4], 'y_perm')], {}, tensorType('float32', [batch, qSeq, qHeads, vSize]));
    y = emit.op1('RESHAPE', [merged, emit.int32([batch, qSeq, qHeads * vSize], [3], 'y_shape')], {}, node.output(0).type);
  }
  replaceNode(node, [y, null, null, null]);
}

export const attentionRules: readonly LoweringRule[] = [
  {
    ops: ['onnx.Attention'],
    stage: 'lower',
    targets: ['RESHAPE', 'TRANSPOSE', 'GATHER', 'BATCH_MATMUL', 'MUL', 'TANH', 'SELECT_V2', 'ADD', 'SOFTMAX'],
    check: (node) => {
      const geometry = attentionGeometry(node);
      return typeof geometry === 'string' ? geometry : undefined;
    },
    lower: lowerAttention,
  },
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
