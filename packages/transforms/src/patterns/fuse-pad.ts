/**
 * Pad → Conv / pooling fusions: a constant-mode Pad on the spatial dims only becomes the consumer's
 * own `pads`, when the consumer would treat the padded elements exactly as the Pad fills them.
 */
import { attrs, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../util/constants.js';
import { intsAttributeOrInput } from './helpers.js';
import { declined, definePattern, type PatternEnv, type TransformPattern } from './pattern.js';

interface PadFacts {
  pad: Node;
  /** The fill value of the Pad (0 when not given). */
  value: number;
  /** The consumer's pads after absorbing the Pad: [begin..., end...] over the spatial dims. */
  merged: number[];
}

/**
 * What `consumer` (reading a Pad's output as input 0) needs to absorb that Pad, or false (with a
 * debug reason) when the Pad is not a constant-mode pad of the spatial dims by constant amounts.
 */
function padFeeding(consumer: Node, name: string, env: PatternEnv): PadFacts | false {
  const pad = consumer.inputs[0]?.producer;
  if (!pad || pad.op !== 'onnx.Pad') return false;
  const autoPad = consumer.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  if (autoPad !== 'NOTSET') return declined(env, name, consumer, `auto_pad=${autoPad}`);
  const mode = pad.optionalAttr('mode', 'string') ?? 'constant';
  if (mode !== 'constant') return declined(env, name, consumer, `Pad mode '${mode}'`);
  if (pad.inputs[3]) return declined(env, name, consumer, 'Pad has an axes input');
  let value = pad.optionalAttr('value', 'float') ?? 0;
  const valueInput = pad.inputs[2];
  if (valueInput) {
    const tensor = constantOf(valueInput);
    const values = tensor?.dtype === 'string' ? undefined : tensor?.toNumbers();
    if (!values || values.length !== 1) return declined(env, name, consumer, 'pad value is not a constant scalar');
    value = values[0]!;
  }
  const pads = intsAttributeOrInput(pad, 'pads', 1);
  if (!pads) return declined(env, name, consumer, 'pads are not constant');
  const rank = pads.length / 2;
  if (!Number.isInteger(rank) || rank < 3) return declined(env, name, consumer, 'pads do not cover batch, channel and spatial dims');
  if (pads.some((p) => p < 0)) return declined(env, name, consumer, 'negative pads (cropping)');
  if (pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0) return declined(env, name, consumer, 'pads on batch or channel dims');
  const spatial = rank - 2;
  const existing = consumer.optionalAttr('pads', 'ints') ?? new Array<number>(2 * spatial).fill(0);
  if (existing.length !== 2 * spatial) return declined(env, name, consumer, 'pads attribute length does not match the input rank');
  const merged = existing.map((p, i) => p + (i < spatial ? pads[2 + i]! : pads[rank + 2 + (i - spatial)]!));
  return { pad, value, merged };
}

function absorb(consumer: Node, facts: PadFacts): true {
  consumer.setAttribute('pads', attrs.ints(facts.merged));
  consumer.setInput(0, facts.pad.input(0));
  return true;
}

/** Pad (constant 0, spatial dims only) → Conv becomes the Conv's own pads. */
export const fusePadIntoConv = definePattern({
  name: 'fuse-pad-into-conv',
  ops: ['onnx.Conv'],
  statistic: 'nodes-fused',
  rewrite(node, _rewriter, env) {
    const facts = padFeeding(node, 'fuse-pad-into-conv', env);
    if (!facts) return false;
    if (facts.value !== 0) return declined(env, 'fuse-pad-into-conv', node, `pad value ${facts.value} is not 0`);
    return absorb(node, facts);
  },
});

/** Ops whose outputs are never negative (NaN aside, which Pad and MaxPool propagate alike). */
const NON_NEGATIVE_OPS = new Set(['onnx.Relu', 'onnx.Sigmoid', 'onnx.Abs', 'onnx.Softplus', 'onnx.Exp']);

function isNonNegative(value: Value | null | undefined): boolean {
  const producer = value?.producer;
  if (!producer) return false;
  if (NON_NEGATIVE_OPS.has(producer.op)) return true;
  if (producer.op === 'onnx.Clip') {
    const min = producer.optionalAttr('min', 'float') ?? constantOf(producer.inputs[1])?.toNumbers()[0];
    return min !== undefined && min >= 0;
  }
  return false;
}

/**
 * Every window of a pool with these pads holds at least one element of the input: dilations of 1
 * and each pad below the kernel size.
 */
function windowsTouchTheInput(node: Node, merged: readonly number[]): boolean {
  const kernel = node.optionalAttr('kernel_shape', 'ints');
  const dilations = node.optionalAttr('dilations', 'ints');
  if (!kernel || kernel.length * 2 !== merged.length) return false;
  if (dilations && dilations.some((d) => d !== 1)) return false;
  return merged.every((p, i) => p < kernel[i % kernel.length]!);
}

/**
 * Pad → MaxPool / AveragePool becomes the pool's own pads when the pool treats padding as the Pad
 * fills it. AveragePool: count_include_pad=1 and a pad value of 0. MaxPool ignores its own padding,
 * which equals padding with −inf, or with 0 when the input is never negative (Relu, Sigmoid, Abs,
 * Softplus, Exp, Clip with min ≥ 0); only when every window still holds an input element (dilations
 * 1, pads below the kernel size) and the Indices output is unused. ceil_mode=1 is declined.
 */
export const fusePadIntoPool = definePattern({
  name: 'fuse-pad-into-pool',
  ops: ['onnx.MaxPool', 'onnx.AveragePool'],
  statistic: 'nodes-fused',
  rewrite(node, _rewriter, env) {
    const name = 'fuse-pad-into-pool';
    if (node.inputs[0]?.producer?.op !== 'onnx.Pad') return false;
    if (node.optionalAttr('ceil_mode', 'int') === 1) return declined(env, name, node, 'ceil_mode=1');
    const facts = padFeeding(node, name, env);
    if (!facts) return false;
    if (node.op === 'onnx.AveragePool') {
      if (node.optionalAttr('count_include_pad', 'int') !== 1) {
        return declined(env, name, node, 'AveragePool with count_include_pad=0 would not average the padded zeros');
      }
      if (facts.value !== 0) return declined(env, name, node, `pad value ${facts.value} is not 0`);
      return absorb(node, facts);
    }
    if (node.outputs[1]?.hasUses) return declined(env, name, node, 'its Indices output is used (indices would count the padding)');
    const neutral = facts.value === -Infinity || (facts.value === 0 && isNonNegative(facts.pad.inputs[0]));
    if (!neutral) {
      return declined(env, name, node, `MaxPool ignores its padding, Pad fills with ${facts.value} and the input is not known to be non-negative`);
    }
    if (!windowsTouchTheInput(node, facts.merged)) {
      return declined(env, name, node, 'a window could hold padding only (a pad not below the kernel size, or dilations)');
    }
    return absorb(node, facts);
  },
});

export const padFusionPatterns: readonly TransformPattern[] = [fusePadIntoConv, fusePadIntoPool];
