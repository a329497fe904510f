/**
 * Comparing across a quantized interface: a model converted with integer inputs and outputs
 * (`legalize-tflite{io-type=int8}`, a full-integer .tflite) declares each such tensor with its scale
 * and zero point (`real = scale · (q − zeroPoint)`). The float feeds of the first model are given to
 * it as the integers its input's parameters make of them (rounded half to even and saturated, as
 * ONNX's QuantizeLinear and TFLite's QUANTIZE do), and its integer outputs are read back as the
 * reals they stand for, so both models are compared on reals.
 */
import { Tensor, type Model, type TensorType } from '@modelpass/ir';

/** One tensor carried across: its name, the integer dtype and the per-tensor parameters used. */
export interface QuantizedBridge {
  readonly name: string;
  readonly dtype: string;
  readonly scale: number;
  readonly zeroPoint: number;
}

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
};
const FLOAT_DTYPES = new Set(['float16', 'float32', 'float64']);

/** The per-tensor integer type of a declared value, or undefined when it is not one. */
export function perTensorQuantized(type: TensorType | undefined): { dtype: string; scale: number; zeroPoint: number } | undefined {
  const quant = type?.quant;
  if (!type || !quant || INTEGER_RANGES[type.dtype] === undefined || quant.scale.length !== 1 || quant.axis !== undefined) return undefined;
  const scale = quant.scale[0]!;
  if (!(scale > 0) || !Number.isFinite(scale)) return undefined;
  return { dtype: type.dtype, scale, zeroPoint: quant.zeroPoint[0] ?? 0 };
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The integers of `dtype` that `scale` and `zeroPoint` make of the reals in `tensor` (half to even, saturated). */
export function quantizeReals(tensor: Tensor, params: { dtype: string; scale: number; zeroPoint: number }): Tensor {
  const [low, high] = INTEGER_RANGES[params.dtype]!;
  const values = tensor.toNumbers().map((x) => Math.min(high, Math.max(low, roundHalfToEven(x / params.scale) + params.zeroPoint)));
  return Tensor.fromValues(params.dtype as Tensor['dtype'], tensor.shape, values);
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
    outputs.set(name, Tensor.fromValues('float32', tensor.shape, tensor.toNumbers().map((q) => params.scale * (q - params.zeroPoint))));
    bridged.push({ name, ...params });
  }
  return { outputs, bridged };
}
