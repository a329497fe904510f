import { type AttributeSpec, type DType, type Tensor, type TypeInference } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, readElements, viewElements, tensorFromElements } from '../util/elements.js';
import { inputTensor, inputTensors, opError } from '../util/kernel-io.js';
import { broadcastInference, inputTensorType, sameAsInput } from '../util/inference.js';
import { broadcastRuns, broadcastStaticShapes } from '../util/shape.js';
import { elementClassOf, type ElementClass } from './element-class.js';
import { verifyBroadcast } from '../verify/structure-checks.js';
import { refuseShape } from '../util/shape-refusal.js';

/**
 * The per-element functions of an elementwise op, one per element class it supports. Float
 * functions compute in double precision; the result is rounded once to the output dtype (for
 * float32 this equals float32 arithmetic for + - * / and sqrt, and is within an ulp otherwise).
 */
export interface UnaryFunctions {
  readonly float?: (x: number) => number;
  /**
   * Optional whole-array form of `float` (same results, element by element), so hot activations
   * run without a call per element: `out[i] = float(x[i])` for every i.
   */
  readonly floatArray?: (x: ArrayLike<number>, out: FloatBuffer) => void;
  readonly int?: (x: number) => number;
  readonly bigint?: (x: bigint) => bigint;
  readonly bool?: (x: number) => number | boolean;
}

type Scalar = number | bigint | string;
type Result = number | bigint | boolean;

/** The output buffer of a float kernel (float32 elements, or float64 for float64 and narrower floats). */
export type FloatBuffer = Float32Array | Float64Array;

/**
 * One broadcast run of a float binary op: `out[o + i] = float(a[ai + i * as], b[bi + i * bs])` for
 * `i < n` (see `broadcastRuns`).
 */
export type FloatRun = (out: FloatBuffer, o: number, a: ArrayLike<number>, ai: number, as: number, b: ArrayLike<number>, bi: number, bs: number, n: number) => void;

export interface BinaryFunctions {
  readonly float?: (a: number, b: number) => Result;
  /** Optional run form of `float` with the same results (hot arithmetic without a call per element). */
  readonly floatRun?: FloatRun;
  readonly int?: (a: number, b: number) => Result;
  readonly bigint?: (a: bigint, b: bigint) => Result;
  readonly bool?: (a: number, b: number) => Result;
  readonly string?: (a: string, b: string) => Result;
}

function unsupported(context: KernelContext, dtype: DType): Error {
  return opError(context.node, `has no reference kernel for element type ${dtype}`);
}

/** Applies a unary function elementwise; the output has the input's dtype unless `outDType` says. */
export function mapUnary(x: Tensor, functions: UnaryFunctions, context: KernelContext, outDType: DType = x.dtype): Tensor {
  const cls = elementClassOf(x.dtype);
  const fn = functions[cls as keyof UnaryFunctions] as ((v: never) => Result) | undefined;
  if (!fn) throw unsupported(context, x.dtype);
  const data = viewElements(x) as unknown as ArrayLike<never>;
  const out = allocateElements(outDType, x.size) as unknown as Result[];
  if (cls === 'float' && functions.floatArray && (out instanceof Float32Array || out instanceof Float64Array)) {
    functions.floatArray(data, out);
  } else {
    const count = x.size;
    for (let i = 0; i < count; i++) out[i] = fn(data[i]!);
  }
  return tensorFromElements(outDType, x.shape, out as unknown as ArrayLike<number>);
}

/**
 * Applies a binary function with numpy broadcasting. The element class (which function runs) is
 * the first input's; `outDType` defaults to the first input's dtype.
 */
export function mapBinary(a: Tensor, b: Tensor, functions: BinaryFunctions, context: KernelContext, outDType: DType = a.dtype): Tensor {
  const cls: ElementClass = elementClassOf(a.dtype);
  const fn = functions[cls] as ((x: Scalar, y: Scalar) => Result) | undefined;
  if (!fn) throw unsupported(context, a.dtype);
  const shape = broadcastStaticShapes([a.shape, b.shape], context.node);
  const { run, aStep, bStep, aOffsets, bOffsets } = broadcastRuns(a.shape, b.shape, shape);
  const aData = viewElements(a) as ArrayLike<Scalar>;
  const bData = viewElements(b) as ArrayLike<Scalar>;
  const out = allocateElements(outDType, run * aOffsets.length) as unknown as Result[];
  const floatRun = cls === 'float' && elementClassOf(b.dtype) === 'float' ? functions.floatRun : undefined;
  if (floatRun && (out instanceof Float32Array || out instanceof Float64Array)) {
    for (let r = 0, o = 0; r < aOffsets.length; r++, o += run) {
      floatRun(out, o, aData as ArrayLike<number>, aOffsets[r]!, aStep, bData as ArrayLike<number>, bOffsets[r]!, bStep, run);
    }
  } else {
    for (let r = 0, o = 0; r < aOffsets.length; r++) {
      let ai = aOffsets[r]!;
      let bi = bOffsets[r]!;
      for (let i = 0; i < run; i++, o++, ai += aStep, bi += bStep) out[o] = fn(aData[ai]!, bData[bi]!);
    }
  }
  return tensorFromElements(outDType, shape, out as unknown as ArrayLike<number>);
}

/** Checks that every input has the same dtype (ONNX's single type variable `T`). */
export function requireSameDType(tensors: readonly Tensor[], context: KernelContext): void {
  const first = tensors[0]?.dtype;
  for (const tensor of tensors) {
    if (tensor.dtype !== first) {
      throw opError(context.node, 'inputs must share one element type', { expected: first, actual: tensor.dtype });
    }
  }
}

/**
 * Opsets before 7 broadcast B only when `broadcast=1`, aligning B's dims at `axis` (default: the
 * trailing dims, as numpy). Reshapes B so numpy broadcasting gives the same result.
 */
export function legacyAlignedB(a: Tensor, b: Tensor, context: KernelContext): Tensor {
  if (context.opset >= 7) return b;
  const node = context.node;
  if (node.attr('broadcast', 'int', 0) !== 1) return b;
  const axisAttribute = node.optionalAttr('axis', 'int');
  if (axisAttribute === undefined) return b;
  const axis = axisAttribute < 0 ? axisAttribute + a.rank : axisAttribute;
  const trailing = a.rank - axis - b.rank;
  if (trailing <= 0) return b;
  return b.reshape([...b.shape, ...new Array<number>(trailing).fill(1)]);
}

export const legacyBroadcastAttributes = {
  broadcast: { kind: 'int', default: 0, oneOf: [0, 1], doc: 'opset < 7: enable broadcasting of B' },
  axis: { kind: 'int', doc: 'opset < 7: where B aligns when broadcasting' },
  consumed_inputs: { kind: 'ints', doc: 'opset 1 legacy, ignored' },
} as const;

export interface UnaryOpInit {
  readonly op: string;
  readonly summary: string;
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
  /** Builds the element functions for one node (reading its attributes). */
  readonly functions: (context: KernelContext) => UnaryFunctions;
}

/** An elementwise unary op whose output has the input's type and shape. */
export function defineUnaryOp(init: UnaryOpInit): CanonicalOp {
  return defineCanonicalOp({
    op: init.op,
    summary: init.summary,
    inputs: [{ name: 'X' }],
    outputs: [{ name: 'Y' }],
    ...(init.attributes ? { attributes: init.attributes } : {}),
    inferTypes: sameAsInput(0),
    kernel: (inputs, context) => [mapUnary(inputTensor(inputs, 0, context), init.functions(context), context)],
  });
}

export interface BinaryOpInit {
  readonly op: string;
  readonly summary: string;
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
  /** Output dtype when it is not the inputs' (e.g. `bool` for comparisons). */
  readonly outDType?: DType;
  /** Whether both inputs must share a dtype (default true). */
  readonly sameDType?: boolean;
  /** Accept the pre-opset-7 `broadcast`/`axis` attributes. */
  readonly legacyBroadcast?: boolean;
  readonly functions: (context: KernelContext) => BinaryFunctions;
}

/**
 * Inference that first refuses A and B of two element types (ONNX's T binds both; ONNX Runtime refuses the model:
 * "Type parameter (T) of Optype (Sub) bound to different types"). The verifier's type-constraint check sees only
 * declared types; a Cast's undeclared output gets its type here, so the node is refused, named, before a pass reads it.
 */
export function sameDTypeInference(inference: TypeInference): TypeInference {
  return (context) => {
    const a = inputTensorType(context, 0);
    const b = inputTensorType(context, 1);
    if (a && b && a.dtype !== b.dtype) {
      const { node } = context;
      refuseShape(node, 'type-constraint', `A '${node.inputs[0]!.name}' is ${a.dtype} but B '${node.inputs[1]!.name}' is ${b.dtype}`, { expected: 'A and B of one element type (T)', actual: `${a.dtype} and ${b.dtype}` });
    }
    return inference(context);
  };
}

/** An elementwise binary op with numpy broadcasting. */
export function defineBinaryOp(init: BinaryOpInit): CanonicalOp {
  return defineCanonicalOp({
    op: init.op,
    summary: init.summary,
    inputs: [{ name: 'A' }, { name: 'B' }],
    outputs: [{ name: 'C' }],
    attributes: { ...(init.legacyBroadcast ? legacyBroadcastAttributes : {}), ...init.attributes },
    inferTypes: init.sameDType === false ? broadcastInference(init.outDType) : sameDTypeInference(broadcastInference(init.outDType)),
    verify: verifyBroadcast(),
    kernel: (inputs, context) => {
      const [a, rawB] = inputTensors(inputs.slice(0, 2), context) as [Tensor, Tensor];
      const b = init.legacyBroadcast ? legacyAlignedB(a, rawB, context) : rawB;
      if (init.sameDType !== false) requireSameDType([a, b], context);
      return [mapBinary(a, b, init.functions(context), context, init.outDType ?? a.dtype)];
    },
  });
}
