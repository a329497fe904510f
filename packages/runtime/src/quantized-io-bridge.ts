/**
 * Comparing across a quantized interface: a model converted with integer inputs and outputs
 * (`legalize-tflite{io-type=int8}`, a full-integer .tflite) declares each such tensor with its scale
 * and zero point (`real = scale · (q − zeroPoint)`). The float feeds of the first model are given to
 * it as the integers its input's parameters make of them (rounded half to even and saturated, as
 * ONNX's QuantizeLinear and TFLite's QUANTIZE do), and its integer outputs are read back as the
 * reals they stand for, so both models are compared on reals.
 */
import { dequantizeLinear, quantizeLinear, Tensor, type Model, type TensorType } from '@modelpass/ir';

/** One tensor carried across: its name, the integer dtype and the per-tensor parameters used. */
export interface QuantizedBridge {
  readonly name: string;
  readonly dtype: string;
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Integer dtypes a quantized interface may have (QuantizeLinear's outputs). */
const INTEGER_DTYPES = new Set(['int8', 'uint8', 'int16', 'uint16']);
const FLOAT_DTYPES = new Set(['float16', 'float32', 'float64']);

/** The per-tensor integer type of a declared value, or undefined when it is not one. */
export function perTensorQuantized(type: TensorType | undefined): { dtype: string; scale: number; zeroPoint: number } | undefined {
  const quant = type?.quant;
  if (!type || !quant || !INTEGER_DTYPES.has(type.dtype) || quant.scale.length !== 1 || quant.axis !== undefined) return undefined;
  const scale = quant.scale[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) return undefined;
  return { dtype: type.dtype, scale, zeroPoint: quant.zeroPoint[0] ?? 0 };
}

/** The integers of `dtype` that `scale` and `zeroPoint` make of the reals in `tensor` (ONNX QuantizeLinear: half to even, saturated). */
export function quantizeReals(tensor: Tensor, params: { dtype: string; scale: number; zeroPoint: number }): Tensor {
  return quantizeLinear(tensor, Tensor.fromValues('float32', [], [params.scale]), Tensor.fromValues(params.dtype as Tensor['dtype'], [], [params.zeroPoint]));
}

/**
 * Float feeds whose input the second model declares as a per-tensor quantized integer are replaced, in
 * place, by those integers. Returns what was quantized.
 */
export function quantizeFeedsFor(feeds: Map<string, Tensor>, second: Model): QuantizedBridge[] {
  const bridged: QuantizedBridge[] = [];
  for (const [name, tensor] of feeds) {
    if (!FLOAT_DTYPES.has(tensor.dtype)) continue;
    const declared = second.graph.inputs.find((value) => value.name === name)?.type;
    const params = perTensorQuantized(declared?.kind === 'tensor' ? declared : undefined);
    if (!params) continue;
    feeds.set(name, quantizeReals(tensor, params));
    bridged.push({ name, ...params });
  }
  return bridged;
}

/**
 * The second model's outputs that it declares as per-tensor quantized integers, where the first model
 * gave floats of that name, read as float32 reals. Returns the outputs and what was read so.
 */
export function dequantizeOutputsOf(actual: Map<string, Tensor>, second: Model, expected: ReadonlyMap<string, Tensor>): { outputs: Map<string, Tensor>; bridged: QuantizedBridge[] } {
  const outputs = new Map(actual);
  const bridged: QuantizedBridge[] = [];
  for (const [name, tensor] of actual) {
    const reference = expected.get(name);
    if (!reference || !FLOAT_DTYPES.has(reference.dtype) || FLOAT_DTYPES.has(tensor.dtype)) continue;
    const declared = second.graph.outputs.find((value) => value.name === name)?.type;
    const params = perTensorQuantized(declared?.kind === 'tensor' ? declared : undefined);
    if (!params || params.dtype !== tensor.dtype) continue;
    outputs.set(name, dequantizeLinear(tensor, Tensor.fromValues('float32', [], [params.scale]), Tensor.fromValues(tensor.dtype, [], [params.zeroPoint])));
    bridged.push({ name, ...params });
  }
  return { outputs, bridged };
}
