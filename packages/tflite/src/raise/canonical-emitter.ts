import { attrs, Builder, expressedType, Tensor, type Attribute, type Node, type Type, type Value } from '@modelpass/ir';
import { channelsFirstPermutation, channelsLastPermutation, insertTranspose, permuteType } from '@modelpass/transforms';
import { dimsOf } from '../legalize/lowering-tools.js';

/** Creates canonical (onnx.*) ops just before the tflite node being raised. */
export class CanonicalEmitter {
  readonly at: Builder;

  constructor(readonly node: Node) {
    this.at = Builder.before(node);
  }

  op1(op: string, inputs: readonly (Value | null)[], attributes: Record<string, Attribute>, type: Type): Value {
    return this.at.op1(`onnx.${op}`, inputs, attributes, { types: [type], name: `${this.node.name}_${op.toLowerCase()}` });
  }

  int64(values: readonly number[], name: string, shape: readonly number[] = [values.length]): Value {
    return this.at.constant(Tensor.fromValues('int64', shape, values.map((v) => BigInt(v))), `${this.node.name}_${name}`);
  }

  constant(tensor: Tensor, name: string): Value {
    return this.at.constant(tensor, `${this.node.name}_${name}`);
  }

  toChannelsFirst(value: Value): Value {
    return insertTranspose(this.at, value, channelsFirstPermutation(dimsOf(value)!.length), `${this.node.name}_to_nchw`);
  }

  toChannelsLast(value: Value): Value {
    return insertTranspose(this.at, value, channelsLastPermutation(dimsOf(value)!.length), `${this.node.name}_to_nhwc`);
  }

  /** The NCHW type of an NHWC value's type. */
  channelsFirstType(type: Type): Type {
    return type.kind === 'tensor' && type.shape ? permuteType(type, channelsFirstPermutation(type.shape.length)) : type;
  }

  /**
   * The type of a tflite op's result before its fused activation: the output type itself when there is
   * none, else its reals (a quantized output is quantized once, after the activation, as TFLite does).
   */
  preActivationType(type: Type, fused: string | undefined): Type {
    return (fused ?? 'NONE') === 'NONE' ? type : expressedType(type);
  }

  /** The fused activation of a tflite op, applied to `value` (identity for NONE); its result has `type` (default: `value`'s). */
  activation(value: Value, fused: string | undefined, type: Type = value.type): Value | string {
    switch (fused ?? 'NONE') {
      case 'NONE':
        return value;
      case 'RELU':
        return this.op1('Relu', [value], {}, type);
      case 'RELU6':
        return this.op1('Clip', [value, this.constant(Tensor.scalar('float32', 0), 'zero'), this.constant(Tensor.scalar('float32', 6), 'six')], {}, type);
      case 'RELU_N1_TO_1':
        return this.op1('Clip', [value, this.constant(Tensor.scalar('float32', -1), 'minus_one'), this.constant(Tensor.scalar('float32', 1), 'one')], {}, type);
      case 'TANH':
        return this.op1('Tanh', [value], {}, type);
      default:
        return `fused activation ${fused} has no ONNX equivalent`;
    }
  }
}

/** Replaces `node`'s outputs by `values` (graph outputs keep their names) and erases it. */
export function replaceRaised(node: Node, values: readonly (Value | null)[]): void {
  node.outputs.forEach((output, index) => {
    const value = values[index];
    if (output && value && output !== value) output.replaceAllUsesWith(value);
  });
  if (node.outputs.every((output) => !output || !output.hasUses)) node.erase();
}

