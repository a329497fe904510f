/**
 * Reading a node for schema `verify` hooks: attributes of the right kind only (the verifier has
 * already reported mistyped ones), static types of inputs, and constant inputs. Every accessor
 * answers `undefined` when it cannot tell, so a hook only reports what it knows is wrong.
 */
import type { Dim, Node, VerifyContext } from '@modelpass/ir';
import { readInts } from '../util/elements.js';
import { shapeOfType } from '../util/inference.js';

/** A schema verify hook. */
export type OpVerifier = (context: VerifyContext) => void;

export function intsAttribute(node: Node, name: string): readonly number[] | undefined {
  const attribute = node.getAttribute(name);
  return attribute?.kind === 'ints' ? attribute.value : undefined;
}

export function intAttribute(node: Node, name: string): number | undefined {
  const attribute = node.getAttribute(name);
  return attribute?.kind === 'int' ? attribute.value : undefined;
}

export function stringAttribute(node: Node, name: string): string | undefined {
  const attribute = node.getAttribute(name);
  return attribute?.kind === 'string' ? attribute.value : undefined;
}

/** The shape of input `index` when its type is a ranked tensor. */
export function inputShapeOf(node: Node, index: number): readonly Dim[] | undefined {
  return shapeOfType(node.inputs[index]?.type);
}

/** The integers of constant input `index` (a `split`, `shape` or `axes` input), when it is constant. */
export function constantIntsOf(node: Node, index: number): number[] | undefined {
  const tensor = node.inputs[index]?.constant;
  if (!tensor || tensor.dtype === 'string') return undefined;
  return readInts(tensor);
}

/** Reports an error at the node with a stable `ops/<check>` code. */
export function reportAt(context: VerifyContext, check: string, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): void {
  context.report({ severity: 'error', source: '@modelpass/ops', code: `ops/${check}`, reason, ...extra });
}
