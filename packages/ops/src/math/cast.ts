import { dtypeFromOnnxCode, tensorType, type DType, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, readElements, floatMax, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { elementClassOf } from './element-class.js';
import { verifyCastTarget } from '../verify/attribute-range-checks.js';

const NARROW_INTEGERS = new Set<DType>(['int4', 'uint4', 'int2', 'uint2']);
const SATURATING_TARGETS = new Set<DType>(['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1']);

/** The shortest decimal that reads back as the same float32 (numpy's `str(np.float32(x))`). */
export function formatFloat32(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'INF';
  if (value === -Infinity) return '-INF';
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toPrecision(precision);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/** Parses a string element the way ONNX's Cast does (decimal, `NaN`, `INF`, `+INF`, `-INF`). */
export function parseNumber(text: string): number {
  const trimmed = text.trim();
  const upper = trimmed.toUpperCase();
  if (upper === 'NAN' || upper === '+NAN' || upper === '-NAN') return NaN;
  if (upper === 'INF' || upper === '+INF' || upper === 'INFINITY' || upper === '+INFINITY') return Infinity;
  if (upper === '-INF' || upper === '-INFINITY') return -Infinity;
  const value = Number(trimmed);
  return Number.isNaN(value) ? parseFloat(trimmed) : value;
}

function toStringElement(value: unknown, from: DType): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  const number = value as number;
  if (from === 'bool') return number ? '1' : '0';
  if (from === 'float32' || from === 'float16' || from === 'bfloat16') return formatFloat32(number);
  if (Number.isNaN(number)) return 'NaN';
  if (!Number.isFinite(number)) return number > 0 ? 'INF' : '-INF';
  return String(number);
}

/** Float to float8/float4 without saturation: out-of-range values become ±inf where the format has it, else NaN. */
export function unsaturated(value: number, to: DType): number {
  if (!Number.isFinite(value) || Math.abs(value) <= floatMax(to)) return value;
  return to === 'float8e5m2' ? Math.sign(value) * Infinity : NaN;
}

/** Converts every element of `x` to dtype `to` (C-style truncation for float to int). */
export function castTensor(x: Tensor, to: DType, saturate: boolean, node?: Node): Tensor {
  if (x.dtype === to) return x;
  if (to.startsWith('complex') || x.dtype.startsWith('complex')) throw opError(node, `cannot cast ${x.dtype} to ${to}`);
  const data = readElements(x) as ArrayLike<unknown>;
  const count = x.size;
  const target = elementClassOf(to);
  const out = allocateElements(to, count) as unknown[];
  const fromString = x.dtype === 'string';
  for (let i = 0; i < count; i++) {
    const raw = data[i];
    if (target === 'string') {
      out[i] = toStringElement(raw, x.dtype);
      continue;
    }
    const number = fromString ? parseNumber(raw as string) : typeof raw === 'bigint' ? Number(raw) : (raw as number);
    switch (target) {
      case 'float':
        out[i] = SATURATING_TARGETS.has(to) && !saturate ? unsaturated(number, to) : number;
        break;
      case 'bool':
        out[i] = typeof raw === 'bigint' ? Number(raw !== 0n) : Number(number !== 0);
        break;
      case 'bigint': {
        if (typeof raw === 'bigint') out[i] = to === 'uint64' ? BigInt.asUintN(64, raw) : BigInt.asIntN(64, raw);
        else if (fromString && /^[+-]?\d+$/.test((raw as string).trim())) out[i] = BigInt((raw as string).trim());
        else out[i] = Number.isFinite(number) ? BigInt(Math.trunc(number)) : to === 'uint64' ? 0n : -(2n ** 63n);
        break;
      }
      case 'int': {
        const truncated = Math.trunc(number);
        // 4- and 2-bit targets keep only their low bits, as the wider ones do through their buffers.
        out[i] = NARROW_INTEGERS.has(to) && Number.isFinite(truncated) ? wrapNarrow(truncated, to) : truncated;
        break;
      }
      default:
        throw opError(node, `cannot cast ${x.dtype} to ${to}`);
    }
  }
  return tensorFromElements(to, x.shape, out as ArrayLike<number>);
}

function wrapNarrow(value: number, to: DType): number {
  const bits = to.endsWith('4') ? 4 : 2;
  const modulus = 1 << bits;
  const low = ((value % modulus) + modulus) % modulus;
  return to.startsWith('u') || low < modulus / 2 ? low : low - modulus;
}

function targetOf(node: Node): DType {
  const code = node.attr('to', 'int');
  const dtype = dtypeFromOnnxCode(code);
  if (!dtype) throw opError(node, `Cast has an unknown target type code ${code}`, { expected: 'a TensorProto.DataType code' });
  return dtype;
}

function saturateOf(context: KernelContext): boolean {
  return context.node.attr('saturate', 'int', 1) === 1;
}

export const cast = defineCanonicalOp({
  op: 'onnx.Cast',
  summary: "Converts elements to the type 'to' (saturate applies to float8 targets, opset 19)",
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: {
    to: { kind: 'int', required: true, doc: 'TensorProto.DataType code of the output' },
    saturate: { kind: 'int', default: 1, oneOf: [0, 1] },
    round_mode: { kind: 'string', default: 'up', oneOf: ['up', 'down', 'nearest'], doc: 'opset 24: float8e8m0 rounding' },
  },
  verify: verifyCastTarget,
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    const to = dtypeFromOnnxCode(context.node.optionalAttr('to', 'int') ?? -1);
    return [to ? tensorType(to, x ? x.shape : null) : undefined];
  },
  kernel: (inputs, context) => [castTensor(inputTensor(inputs, 0, context), targetOf(context.node), saturateOf(context), context.node)],
});

export const castLike = defineCanonicalOp({
  op: 'onnx.CastLike',
  summary: "Converts elements of input to target_type's element type",
  inputs: [{ name: 'input' }, { name: 'target_type' }],
  outputs: [{ name: 'output' }],
  attributes: { saturate: { kind: 'int', default: 1, oneOf: [0, 1] } },
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    const target = inputTensorType(context, 1);
    return [target ? tensorType(target.dtype, x ? x.shape : null) : undefined];
  },
  kernel: (inputs, context) => {
    const target = inputTensor(inputs, 1, context);
    return [castTensor(inputTensor(inputs, 0, context), target.dtype, saturateOf(context), context.node)];
  },
});

export const castOps: readonly CanonicalOp[] = [cast, castLike];
