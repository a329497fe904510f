/**
 * Control flow: If and Loop. Their bodies run through `KernelContext.runSubgraph`, which sees the
 * values of enclosing graphs.
 */
import { Tensor, tensorType, UNKNOWN_TYPE, type Graph, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type RuntimeValue } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { gatherElements } from './kernel-helpers.js';
import { verifyIf, verifyLoop } from '../verify/structure-checks.js';

function truthy(tensor: Tensor): boolean {
  return tensor.size > 0 && readNumbers(tensor)[0] !== 0;
}

function outputTypes(graph: Graph): Type[] {
  return graph.outputs.map((value) => value.type);
}

export const ifOp = defineCanonicalOp({
  op: 'onnx.If',
  summary: 'Runs then_branch or else_branch depending on a boolean scalar',
  inputs: [{ name: 'cond' }],
  outputs: [{ name: 'outputs', variadic: true }],
  attributes: { then_branch: { kind: 'graph', required: true }, else_branch: { kind: 'graph', required: true } },
  verify: verifyIf,
  inferTypes(context) {
    const thenTypes = outputTypes(context.node.attr('then_branch', 'graph'));
    const elseTypes = outputTypes(context.node.attr('else_branch', 'graph'));
    return context.node.outputs.map((_, i) => {
      const a = thenTypes[i];
      const b = elseTypes[i];
      if (!a || a.kind === 'unknown') return b && b.kind !== 'unknown' ? b : undefined;
      if (a.kind === 'tensor' && b?.kind === 'tensor' && a.shape && b.shape) {
        if (a.dtype !== b.dtype) return undefined;
        if (a.shape.length !== b.shape.length) return tensorType(a.dtype, null);
        return tensorType(a.dtype, a.shape.map((d, k) => (d === b.shape![k] ? d : null)));
      }
      return a;
    });
  },
  kernel(inputs, context) {
    const cond = inputTensor(inputs, 0, context.node);
    const branch = context.node.attr(truthy(cond) ? 'then_branch' : 'else_branch', 'graph');
    const outputs = context.runSubgraph(branch, []);
    if (outputs.length !== context.node.outputs.length) {
      throw opError(context.node, `branch '${branch.name}' produced ${outputs.length} outputs`, { expected: `${context.node.outputs.length}` });
    }
    return outputs;
  },
});

/** Stacks tensors of one shape along a new leading axis. */
function stack(parts: readonly Tensor[], fallback: Type | undefined): Tensor {
  if (parts.length === 0) {
    const dtype = fallback?.kind === 'tensor' ? fallback.dtype : 'float32';
    const inner = fallback?.kind === 'tensor' && fallback.shape?.every((d) => typeof d === 'number') ? (fallback.shape as number[]) : [];
    return dtype === 'string' ? Tensor.fromStrings([0, ...inner], []) : Tensor.fromBytes(dtype, [0, ...inner], new Uint8Array(0));
  }
  const size = parts[0]!.size;
  const map = new Int32Array(parts.length * size);
  const which = new Int32Array(parts.length * size);
  for (let p = 0; p < parts.length; p++) {
    for (let i = 0; i < size; i++) {
      map[p * size + i] = i;
      which[p * size + i] = p;
    }
  }
  return gatherElements(parts, [parts.length, ...parts[0]!.shape], map, which);
}

export const loopOp = defineCanonicalOp({
  op: 'onnx.Loop',
  summary: 'Runs body while the trip count and condition allow; carries values and stacks scan outputs',
  inputs: [{ name: 'M', optional: true }, { name: 'cond', optional: true }, { name: 'v_initial', variadic: true, minCount: 0 }],
  outputs: [{ name: 'v_final_and_scan_outputs', variadic: true }],
  attributes: { body: { kind: 'graph', required: true } },
  verify: verifyLoop,
  inferTypes(context) {
    const body = context.node.attr('body', 'graph');
    const carried = context.node.inputs.length - 2;
    return context.node.outputs.map((_, i) => {
      const type = body.outputs[i + 1]?.type;
      if (i < carried) {
        const initial = context.inputType(i + 2);
        return type && type.kind !== 'unknown' ? type : initial;
      }
      if (type?.kind === 'tensor') return tensorType(type.dtype, type.shape ? [null, ...type.shape] : null);
      return undefined;
    });
  },
  kernel(inputs, context) {
    const { node } = context;
    const body = node.attr('body', 'graph');
    const tripT = optionalInputTensor(inputs, 0, node);
    const condT = optionalInputTensor(inputs, 1, node);
    const maxTrips = tripT ? Number((tripT.data() as BigInt64Array)[0]) : Infinity;
    let cond = condT ? truthy(condT) : true;
    if (!tripT && !condT) throw opError(node, 'has neither a trip count nor a condition: it would never end', { hint: 'ONNX defines this as an infinite loop; the reference interpreter refuses to run it' });
    let carried: RuntimeValue[] = inputs.slice(2);
    const carriedCount = carried.length;
    const scanCount = body.outputs.length - 1 - carriedCount;
    if (scanCount < 0) throw opError(node, `body has ${body.outputs.length} outputs for ${carriedCount} loop-carried values`);
    const scans: Tensor[][] = Array.from({ length: scanCount }, () => []);
    for (let i = 0; i < maxTrips && cond; i++) {
      const outputs = context.runSubgraph(body, [Tensor.scalar('int64', BigInt(i)), Tensor.scalar('bool', cond), ...carried]);
      const condOut = outputs[0];
      if (!(condOut instanceof Tensor)) throw opError(node, 'body condition output must be a tensor');
      // Without a cond input the body's condition is ignored (a plain for loop).
      if (condT) cond = truthy(condOut);
      carried = outputs.slice(1, 1 + carriedCount);
      outputs.slice(1 + carriedCount).forEach((value, k) => {
        if (!(value instanceof Tensor)) throw opError(node, `scan output #${k} must be a tensor`);
        scans[k]!.push(value);
      });
    }
    const stacked = scans.map((parts, k) => stack(parts, body.outputs[1 + carriedCount + k]?.type ?? UNKNOWN_TYPE));
    return [...carried, ...stacked].slice(0, node.outputs.length);
  },
});

export const controlFlowOps = [ifOp, loopOp];
