/**
 * Verify hooks for ops whose attributes must agree with their operands: Gemm and MatMul inner
 * dimensions, Split's output count against `split`/`num_outputs`, Concat's axis and ranks,
 * Transpose's perm, and the arity of If/Loop/Scan bodies.
 */
import type { Dim } from '@modelpass/ir';
import { staticDim } from '../util/inference.js';
import { constantIntsOf, inputShapeOf, intAttribute, intsAttribute, reportAt, type OpVerifier } from './verify-context.js';

function formatDims(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

function axisInRange(axis: number, rank: number): number | undefined {
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized < rank ? normalized : undefined;
}

export const verifyGemm: OpVerifier = (context) => {
  const { node } = context;
  const a = inputShapeOf(node, 0);
  const b = inputShapeOf(node, 1);
  if (a && a.length !== 2) reportAt(context, 'gemm-rank', `A '${node.inputs[0]!.name}' has rank ${a.length}`, { expected: 'a matrix (rank 2)', actual: `rank ${a.length} ${formatDims(a)}` });
  if (b && b.length !== 2) reportAt(context, 'gemm-rank', `B '${node.inputs[1]!.name}' has rank ${b.length}`, { expected: 'a matrix (rank 2)', actual: `rank ${b.length} ${formatDims(b)}` });
  const transA = intAttribute(node, 'transA') === 1;
  const transB = intAttribute(node, 'transB') === 1;
  // C broadcasts one way to [M, N] (ONNX Runtime refuses the model otherwise); M from A, N from B, either may be unknown.
  const c = node.inputs[2] ? inputShapeOf(node, 2) : undefined;
  if (c) {
    const m = a?.length === 2 ? staticDim(transA ? a[1] : a[0]) : undefined;
    const n = b?.length === 2 ? staticDim(transB ? b[0] : b[1]) : undefined;
    const target = [m, n];
    const bad = c.length > 2 || c.some((dim, i) => {
      const want = target[i + 2 - c.length];
      const have = staticDim(dim);
      return want !== undefined && have !== undefined && have !== 1 && have !== want;
    });
    if (bad)
      reportAt(context, 'gemm-c-broadcast', `C '${node.inputs[2]!.name}' ${formatDims(c)} does not broadcast to Y [M, N] = [${m ?? '?'},${n ?? '?'}]`, {
        expected: 'C of rank 0 to 2 whose dims are 1 or those of [M, N], aligned at the last dim',
        actual: formatDims(c),
      });
  }
  if (a?.length !== 2 || b?.length !== 2) return;
  const kA = staticDim(transA ? a[0] : a[1]);
  const kB = staticDim(transB ? b[1] : b[0]);
  if (kA !== undefined && kB !== undefined && kA !== kB) {
    reportAt(context, 'gemm-inner-dim', `inner dimensions differ: A gives K = ${kA}${transA ? ' (transA)' : ''}, B gives K = ${kB}${transB ? ' (transB)' : ''}`, {
      expected: `B '${node.inputs[1]!.name}' with K = ${kA}`,
      actual: `${formatDims(b)}`,
      hint: 'check transA/transB against how the weight is stored',
    });
  }
};

export const verifyMatMul: OpVerifier = (context) => {
  const { node } = context;
  const a = inputShapeOf(node, 0);
  const b = inputShapeOf(node, 1);
  if (!a || !b || a.length === 0 || b.length === 0) return;
  const k1 = staticDim(a[a.length - 1]);
  const k2 = staticDim(b.length === 1 ? b[0] : b[b.length - 2]);
  if (k1 !== undefined && k2 !== undefined && k1 !== k2) {
    reportAt(context, 'matmul-inner-dim', `inner dimensions differ: A's last dim is ${k1}, B's ${b.length === 1 ? 'only' : 'second-to-last'} dim is ${k2}`, { expected: `K = ${k1}`, actual: `A ${formatDims(a)}, B ${formatDims(b)}` });
  }
};

export const verifySplit: OpVerifier = (context) => {
  const { node } = context;
  const outputs = node.outputs.length;
  const split = intsAttribute(node, 'split') ?? constantIntsOf(node, 1);
  const numOutputs = intAttribute(node, 'num_outputs');
  if (split && numOutputs !== undefined) reportAt(context, 'split-count', 'both split and num_outputs are given', { hint: 'give one of them' });
  if (split && split.length !== outputs) {
    reportAt(context, 'split-count', `split lists ${split.length} parts but the node has ${outputs} outputs`, { expected: `${outputs} sizes`, actual: `[${split.join(',')}]` });
  }
  if (numOutputs !== undefined && numOutputs !== outputs) reportAt(context, 'split-count', `num_outputs is ${numOutputs} but the node has ${outputs} outputs`);
  const shape = inputShapeOf(node, 0);
  if (!shape) return;
  const axis = axisInRange(intAttribute(node, 'axis') ?? 0, shape.length);
  if (axis === undefined) {
    reportAt(context, 'axis-range', `axis ${intAttribute(node, 'axis') ?? 0} is out of range for an input of rank ${shape.length}`);
    return;
  }
  const dim = staticDim(shape[axis]);
  if (split && dim !== undefined && split.reduce((sum, size) => sum + size, 0) !== dim) {
    reportAt(context, 'split-sizes', `split sizes [${split.join(',')}] add up to ${split.reduce((s, v) => s + v, 0)}, not to dimension ${dim} of axis ${axis}`);
  }
};

export const verifyConcat: OpVerifier = (context) => {
  const { node } = context;
  const shapes = node.inputs.map((_, i) => inputShapeOf(node, i)).filter((s): s is readonly Dim[] => s !== undefined);
  const first = shapes[0];
  if (!first) return;
  const axisValue = intAttribute(node, 'axis') ?? 0;
  const axis = axisInRange(axisValue, first.length);
  if (axis === undefined) {
    reportAt(context, 'axis-range', `axis ${axisValue} is out of range for inputs of rank ${first.length}`);
    return;
  }
  for (const shape of shapes) {
    if (shape.length !== first.length) {
      reportAt(context, 'concat-rank', `inputs have ranks ${first.length} and ${shape.length}`, { expected: 'one rank for every input' });
      return;
    }
    const clash = shape.findIndex((dim, d) => d !== axis && typeof dim === 'number' && typeof first[d] === 'number' && dim !== first[d]);
    if (clash >= 0) {
      reportAt(context, 'concat-dims', `inputs differ on axis ${clash} (${first[clash]} and ${shape[clash]}), which is not the concatenation axis ${axis}`);
      return;
    }
  }
};

export const verifyTranspose: OpVerifier = (context) => {
  const { node } = context;
  const perm = intsAttribute(node, 'perm');
  if (!perm) return;
  const rank = inputShapeOf(node, 0)?.length ?? perm.length;
  const sorted = [...perm].sort((x, y) => x - y);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    reportAt(context, 'transpose-perm', `perm [${perm.join(',')}] is not a permutation of the ${rank} axes`, { expected: `a reordering of 0..${rank - 1}` });
  }
};

export const verifyIf: OpVerifier = (context) => {
  const { node } = context;
  for (const name of ['then_branch', 'else_branch']) {
    const branch = node.getAttribute(name);
    if (branch?.kind !== 'graph') continue;
    if (branch.value.outputs.length !== node.outputs.length) {
      reportAt(context, 'body-arity', `${name} gives ${branch.value.outputs.length} outputs but the node has ${node.outputs.length}`);
    }
  }
};

export const verifyLoop: OpVerifier = (context) => {
  const { node } = context;
  const body = node.getAttribute('body');
  if (body?.kind !== 'graph') return;
  const carried = node.inputs.length - 2;
  const graph = body.value;
  if (graph.inputs.length !== carried + 2) {
    reportAt(context, 'body-arity', `body takes ${graph.inputs.length} inputs for ${carried} loop-carried values`, { expected: `${carried + 2} (iteration, condition, carried values)` });
  }
  if (graph.outputs.length < carried + 1 || node.outputs.length > graph.outputs.length - 1) {
    reportAt(context, 'body-arity', `body gives ${graph.outputs.length} outputs for ${carried} loop-carried values and ${node.outputs.length} node outputs`, { expected: `condition + ${carried} carried values + scan outputs, at least ${Math.max(carried, node.outputs.length) + 1}` });
  }
};

export const verifyScan: OpVerifier = (context) => {
  const { node } = context;
  const body = node.getAttribute('body');
  const scanInputs = intAttribute(node, 'num_scan_inputs');
  if (body?.kind !== 'graph' || scanInputs === undefined) return;
  const operands = node.inputs.length - (context.opset !== undefined && context.opset < 9 ? 1 : 0);
  if (scanInputs < 1 || scanInputs > operands) {
    reportAt(context, 'scan-inputs', `num_scan_inputs is ${scanInputs} for ${operands} operands`, { expected: `1..${operands}` });
    return;
  }
  if (body.value.inputs.length !== operands) reportAt(context, 'body-arity', `body takes ${body.value.inputs.length} inputs`, { expected: `${operands} (${operands - scanInputs} states + ${scanInputs} scan inputs)` });
  const states = operands - scanInputs;
  if (body.value.outputs.length !== node.outputs.length || node.outputs.length < states) {
    reportAt(context, 'body-arity', `body gives ${body.value.outputs.length} outputs but the node has ${node.outputs.length}`, { expected: `equal counts, at least the ${states} states` });
  }
  for (const name of ['scan_input_axes', 'scan_input_directions']) {
    const values = intsAttribute(node, name);
    if (values && values.length !== scanInputs) reportAt(context, 'scan-attribute-length', `${name} has ${values.length} entries for ${scanInputs} scan inputs`);
  }
  for (const name of ['scan_output_axes', 'scan_output_directions']) {
    const values = intsAttribute(node, name);
    if (values && values.length !== node.outputs.length - states) reportAt(context, 'scan-attribute-length', `${name} has ${values.length} entries for ${node.outputs.length - states} scan outputs`);
  }
};

/**
 * Numpy broadcasting of the operands at `indices` (all when omitted): two static dims that differ
 * and are not 1 can never broadcast — ONNX Runtime refuses such a file at load ("Incompatible
 * dimensions"). Symbolic and unknown dims broadcast with anything, so only a proven clash is
 * reported. Nodes with the pre-opset-7 `broadcast` attribute align B at `axis` instead: skipped.
 */
export function verifyBroadcast(indices?: readonly number[]): OpVerifier {
  return (context) => {
    const { node } = context;
    if (node.getAttribute('broadcast') !== undefined) return;
    const operands = (indices ?? node.inputs.map((_, i) => i)).filter((i) => node.inputs[i]);
    const shapes = operands.map((i) => inputShapeOf(node, i));
    const rank = Math.max(0, ...shapes.map((shape) => shape?.length ?? 0));
    for (let d = 0; d < rank; d++) {
      let owner = -1;
      let size = 1;
      for (let k = 0; k < shapes.length; k++) {
        const shape = shapes[k];
        const dim = shape ? staticDim(shape[d - (rank - shape.length)]) : undefined;
        if (dim === undefined || dim === 1) continue;
        if (owner < 0) {
          owner = k;
          size = dim;
        } else if (dim !== size) {
          const describe = (j: number): string => `'${node.inputs[operands[j]!]!.name}' ${formatDims(shapes[j]!)}`;
          reportAt(context, 'broadcast-shapes', `input shapes cannot be broadcast: ${describe(owner)} and ${describe(k)} differ on dim ${d - rank} (${size} and ${dim}, neither 1)`, {
            expected: 'equal dims or 1 on each axis (numpy broadcasting)',
            actual: shapes.map((shape) => (shape ? formatDims(shape) : '?')).join(' and '),
          });
          return;
        }
      }
    }
  };
}

/** Reshape of a fully static input to a constant target: the element counts must agree. */
export const verifyReshape: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const target = node.inputs[1] ? constantIntsOf(node, 1) : intsAttribute(node, 'shape');
  if (target && (target.some((d) => d < -1) || target.filter((d) => d === -1).length > 1)) {
    reportAt(context, 'reshape-target', `the target shape [${target.join(',')}] ${target.some((d) => d < -1) ? `holds ${target.find((d) => d < -1)}` : 'has more than one -1'}`, {
      expected: 'sizes >= 0, 0 to copy an input dim, and at most one -1 (inferred)',
      actual: `[${target.join(',')}]`,
    });
    return;
  }
  if (!shape || !target || !shape.every((d) => typeof d === 'number')) return;
  const allowZero = intAttribute(node, 'allowzero') === 1;
  const resolved = target.map((d, i) => (d === 0 && !allowZero ? (shape[i] as number | undefined) : d));
  if (resolved.some((d) => d === undefined || d < -1) || resolved.filter((d) => d === -1).length > 1) return;
  const size = (shape as number[]).reduce((p, d) => p * d, 1);
  const known = (resolved as number[]).filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const fits = resolved.includes(-1) ? (known === 0 ? size === 0 : size % known === 0) : known === size;
  if (fits) return;
  reportAt(context, 'reshape-size', `cannot reshape '${node.inputs[0]!.name}' ${formatDims(shape)} (${size} elements) to [${target.join(',')}]`, {
    expected: resolved.includes(-1) ? `a target whose known dims divide ${size}` : `a target of ${size} elements`,
    actual: `[${target.join(',')}]${resolved.includes(-1) ? '' : ` (${known} elements)`}`,
  });
};
