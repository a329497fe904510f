/**
 * Copies the nodes of a control-flow body (If branch, Loop/Scan body) into the graph of the node
 * that holds it, just before that node: the body's inputs are bound to given values, its constants
 * become constants of the outer graph (once per holder), and values of enclosing graphs stay as they
 * are. What control flow needs to unroll or inline a body at conversion time.
 *
 * Not `inlineBranch` from @modelpass/transforms (fold-if's), on purpose: that one moves a single If
 * branch into its graph once, keeping names, metadata and nested subgraphs, and erases the source.
 * Here a body is copied, not moved: a Loop/Scan body once per unrolled iteration and both If branches
 * when they become a Where, each copy with its inputs bound to that iteration's values, its names tagged
 * by the copy, and its constants added once and shared by all copies; bodies that still hold control
 * flow are refused before this runs (control-flow.ts expands the innermost first).
 */
import { attrs, Builder, Tensor, type Graph, type Node, type Value } from '@modelpass/ir';

export class BodyInliner {
  private readonly constants = new Map<Value, Value>();
  readonly at: Builder;

  constructor(readonly holder: Node) {
    this.at = Builder.before(holder);
  }

  get graph(): Graph {
    return this.holder.graph!;
  }

  /** Copies `body` with its inputs bound to `bindings`; returns the values of its outputs. `tag` names the copy (iteration, branch). */
  inline(body: Graph, bindings: readonly Value[], tag: string): Value[] {
    const map = new Map<Value, Value>();
    body.inputs.forEach((input, index) => map.set(input, bindings[index]!));
    for (const constant of body.constants) {
      if (map.has(constant)) continue;
      let copy = this.constants.get(constant);
      if (!copy) {
        copy = this.graph.addConstant(this.graph.uniqueName(`${this.holder.name}_${constant.name}`), constant.constant!);
        this.constants.set(constant, copy);
      }
      map.set(constant, copy);
    }
    const resolve = (value: Value): Value => map.get(value) ?? value;
    for (const node of body.nodeList()) {
      const copy = this.graph.createNode({
        op: node.op,
        name: this.graph.uniqueNodeName(`${this.holder.name}_${tag}_${node.name}`),
        inputs: node.inputs.map((value) => (value ? resolve(value) : null)),
        outputs: node.outputs.map((value) => (value ? { name: this.graph.uniqueName(`${this.holder.name}_${tag}_${value.name}`), type: value.type } : null)),
        attributes: node.attributes,
        loc: node.location,
        before: this.holder,
      });
      node.outputs.forEach((value, index) => {
        if (value) map.set(value, copy.outputs[index]!);
      });
    }
    return body.outputs.map(resolve);
  }

  int64(value: number, name: string): Value {
    return this.at.constant(Tensor.scalar('int64', BigInt(value)), `${this.holder.name}_${name}`);
  }

  /** `x` with a new axis of size 1 at `axis`, in the spelling of the model's opset (attribute before 13, input from 13). */
  unsqueeze(x: Value, axis: number, opset: number): Value {
    if (opset < 13) return this.at.op1('onnx.Unsqueeze', [x], { axes: attrs.ints([axis]) });
    const axes = this.at.constant(Tensor.fromValues('int64', [1], [BigInt(axis)]), `${this.holder.name}_axes`);
    return this.at.op1('onnx.Unsqueeze', [x, axes]);
  }

  concat(values: readonly Value[], axis: number): Value {
    return values.length === 1 ? this.at.op1('onnx.Identity', [values[0]!]) : this.at.op1('onnx.Concat', values, { axis: attrs.int(axis) });
  }

  /**
   * Moves the holder's outputs to `values` and erases it. A graph output that would become a value
   * the holder did not compute (a graph input, a constant, an outer value) is copied by an Identity.
   */
  replaceHolder(values: readonly (Value | null)[]): void {
    this.holder.outputs.forEach((output, index) => {
      let value = values[index];
      if (!output || !value) return;
      if (output.isGraphOutput && (!value.producer || value.isGraphOutput)) value = this.at.op1('onnx.Identity', [value], {}, { types: [output.type] });
      output.replaceAllUsesWith(value);
    });
    if (this.holder.outputs.every((output) => !output || !output.hasUses)) this.holder.erase();
  }
}
