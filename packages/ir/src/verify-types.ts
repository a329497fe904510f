/**
 * The type half of the verifier: a value's declared type against what its producer's inference
 * computes from the inputs' types, a constant's declared type against its tensor, and quantization
 * parameters against the storage dtype and shape. Unknown and symbolic dims are compatible with
 * anything; only what inference can prove is compared.
 */
import type { DiagnosticInit } from './diagnostic.js';
import { dtypeInfo } from './dtype.js';
import { isInferenceRefusal } from './inference-refusal.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { OpSchema } from './op-schema.js';
import { expressedType, formatType, tensorType, typesEqual, type Dim, type QuantParams, type Type } from './type.js';
import type { Value } from './value.js';
import type { KnownValues } from './verifier.js';

type Report = (init: DiagnosticInit) => void;

/** Why two types cannot describe one value: their element type or kind differs, or their shapes. */
export interface TypeConflict {
  readonly what: 'type' | 'shape';
  readonly reason: string;
}

/** The conflict between a declared and an inferred type (undefined when one value can have both). */
export function typeConflict(declared: Type, inferred: Type): TypeConflict | undefined {
  if (declared.kind === 'unknown' || inferred.kind === 'unknown') return undefined;
  if (declared.kind !== inferred.kind) return { what: 'type', reason: `a ${declared.kind} is not a ${inferred.kind}` };
  switch (declared.kind) {
    case 'tensor':
    case 'sparse-tensor': {
      const other = inferred as typeof declared;
      if (declared.dtype !== other.dtype) return { what: 'type', reason: `dtype ${declared.dtype} is not ${other.dtype}` };
      const shape = shapeConflict(declared.shape, other.shape);
      return shape === undefined ? undefined : { what: 'shape', reason: shape };
    }
    case 'sequence':
    case 'optional':
      return typeConflict(declared.element, (inferred as typeof declared).element);
    case 'map': {
      const other = inferred as typeof declared;
      return declared.key !== other.key ? { what: 'type', reason: `map key ${declared.key} is not ${other.key}` } : typeConflict(declared.value, other.value);
    }
  }
}

function shapeConflict(declared: readonly Dim[] | null, inferred: readonly Dim[] | null): string | undefined {
  if (declared === null || inferred === null) return undefined;
  if (declared.length !== inferred.length) return `rank ${declared.length} is not ${inferred.length}`;
  for (let i = 0; i < declared.length; i++) {
    const a = declared[i];
    const b = inferred[i];
    if (typeof a === 'number' && typeof b === 'number' && a !== b) return `dim ${i} is ${a}, not ${b}`;
  }
  return undefined;
}

/**
 * Runs the schema's inference on the node's declared input types and reports every output whose
 * declared type contradicts it: `verify/declared-type` when the dtype or kind differs (ONNX Runtime
 * refuses such a file), `verify/declared-shape` when the rank or a static dim does (ONNX Runtime
 * merges declared intermediate shapes leniently and runs the file, but passes here read declared
 * shapes, so both are errors; verify-each tolerates the second kind in its input model). Inference
 * that throws is not this check's business (the node's other checks and inferShapes report it), except an
 * `InferenceRefusal` of a main-graph node: its diagnostics are reported as errors, less the codes in
 * `reportedCodes` (what the node's verify hook said already).
 *
 * With `propagated`, values declared without a type (an imported model's intermediates) take the type
 * inference gave them upstream, and this node's undeclared outputs are recorded there: so a graph
 * output declared int64 behind a chain of untyped values is still checked against what its producer
 * really gives. Propagated types are only read, never written to the model.
 *
 * With `knownValues`, an input that is no constant but whose data the analysis knows (a Reshape target computed
 * by Shape → Slice → Concat) is handed to inference as a constant, so a declared output contradicting it is
 * reported on the model as read, not only once a pass folds the computation. Should inference throw with that
 * data, the node is inferred again without it and only that inference's refusal counts.
 */
export function checkInferredOutputs(
  node: Node,
  schema: OpSchema,
  model: Model,
  report: Report,
  propagated?: Map<Value, Type>,
  reportedCodes?: ReadonlySet<string>,
  knownValues?: KnownValues,
): void {
  if (!schema.inferTypes) return;
  const outputs = node.outputs;
  if (!propagated && outputs.every((value) => !value || value.type.kind === 'unknown')) return;
  const typeOf = (value: Value | null | undefined): Type | undefined => {
    if (!value) return undefined;
    return value.type.kind !== 'unknown' ? value.type : propagated?.get(value);
  };
  const infer = (known: KnownValues | undefined, onKnown: () => void): readonly (Type | undefined)[] =>
    schema.inferTypes!({
      node,
      opset: model.opset(node.dialect),
      inputType: (index) => {
        const type = typeOf(node.inputs[index]);
        return type && expressedType(type);
      },
      inputConstant: (index) => {
        const input = node.inputs[index];
        if (!input) return undefined;
        if (input.constant || !known || !input.producer) return input.constant;
        const data = known(input);
        if (data) onKnown();
        return data;
      },
    });
  let inferred: readonly (Type | undefined)[];
  try {
    let usedKnown = false;
    try {
      inferred = infer(knownValues, () => (usedKnown = true));
    } catch (error) {
      // Propagated data only sharpens the declared-type check: what inference makes of the node without it decides the rest.
      if (!usedKnown) throw error;
      inferred = infer(undefined, () => {});
    }
  } catch (error) {
    // A refusal proves the inputs impossible (ONNX Runtime refuses such a file at load); other throws prove nothing.
    // Only in a main graph: an If branch or loop body may never run with these shapes.
    if (isInferenceRefusal(error) && node.graph?.parentNode === null) {
      for (const d of error.diagnostics) {
        if (d.code !== undefined && reportedCodes?.has(d.code)) continue;
        report({ ...d, severity: 'error', location: d.location ?? node.location });
      }
    }
    return;
  }
  for (let index = 0; index < outputs.length; index++) {
    const value = outputs[index];
    const type = inferred[index];
    if (!value || !type) continue;
    if (value.type.kind === 'unknown') {
      propagated?.set(value, type);
      continue;
    }
    // A quantized output may be declared by its storage type or stand for float32 reals.
    const conflict = typeConflict(value.type, type) && typeConflict(expressedType(value.type), type);
    if (!conflict) continue;
    report({
      reason: `output #${index} '${value.name}' is declared ${formatType(value.type)} but ${node.op} gives ${formatType(type)} for these inputs (${conflict.reason})`,
      expected: formatType(type),
      actual: formatType(value.type),
      location: node.location,
      code: conflict.what === 'type' ? 'verify/declared-type' : 'verify/declared-shape',
      hint: "a pass changed this declared type, or an input without updating it: refresh types with inferShapes(model, { mode: 'refresh' }) or set the value's type",
    });
  }
}

/**
 * A constant's declared type must describe its tensor: the same dtype, a shape its data fits
 * (equal where static; a graph input's default may sit under a symbolic or unknown dim, and an
 * unranked declaration says nothing), and the tensor's quantization when the tensor has some.
 */
export function checkConstantType(value: Value, graphPath: string, report: Report): void {
  const tensor = value.constant;
  if (!tensor) return;
  const actual = tensorType(tensor.dtype, tensor.shape, tensor.quant);
  const declared = value.type;
  const stale =
    declared.kind !== 'tensor' ||
    declared.dtype !== tensor.dtype ||
    shapeConflict(declared.shape, tensor.shape) !== undefined ||
    (tensor.quant !== undefined && declared.quant !== undefined && !typesEqual(declared, actual));
  if (!stale) return;
  report({
    reason: `constant '${value.name}' is declared ${formatType(declared)} but its data is ${formatType(actual)}`,
    expected: formatType(actual),
    actual: formatType(declared),
    location: { path: graphPath, node: value.name },
    code: 'verify/constant-type',
    hint: 'replace constant data together with its type (Value.setConstant), or set value.type to the new tensor type',
  });
}

/** The range of a `bits`-wide integer of `dtype`'s signedness. */
function storageRange(signed: boolean, bits: number): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** Quantization parameters against the type they annotate. */
export function checkQuantParams(value: Value, quant: QuantParams, type: Type, graphPath: string, report: Report): void {
  if (type.kind !== 'tensor') return;
  const where = { path: graphPath, ...(value.producer ? { node: value.producer.name, op: value.producer.op } : { node: value.name }) };
  const fail = (reason: string, expected: string, actual: string): void =>
    report({ reason: `quantized type of '${value.name}': ${reason}`, expected, actual, location: where, code: 'verify/quant-params' });
  const info = dtypeInfo(type.dtype);
  const integer = info.category === 'signed' || info.category === 'unsigned';
  if (!integer && !(info.category === 'float' && info.bits <= 8)) {
    fail(`storage dtype ${info.name} cannot hold quantized values`, 'an integer (int8, uint8, int4, int16, …) or 8-bit-or-less float storage dtype', info.name);
    return;
  }
  if (quant.bits !== info.bits) fail(`bits=${quant.bits} does not match the storage dtype ${info.name}`, `bits=${info.bits}`, `bits=${quant.bits}`);
  if (quant.scale.length !== quant.zeroPoint.length) {
    fail(`${quant.scale.length} scales but ${quant.zeroPoint.length} zero points`, 'one zero point per scale', `${quant.zeroPoint.length}`);
  }
  const badScale = quant.scale.find((s) => !(Number.isFinite(s) && s > 0));
  if (badScale !== undefined) fail(`scale ${badScale} is not a positive finite number`, 'scales > 0', String(badScale));
  if (integer) {
    const [low, high] = storageRange(info.category === 'signed', info.bits);
    const bad = quant.zeroPoint.find((z) => !Number.isInteger(z) || z < low || z > high);
    if (bad !== undefined) fail(`zero point ${bad} is outside ${info.name}'s range`, `integers in [${low}, ${high}]`, String(bad));
  }
  const shape = type.shape;
  if (quant.axis === undefined) {
    if (quant.scale.length !== 1) fail(`per-tensor quantization (no axis) with ${quant.scale.length} scales`, '1 scale, or an axis for per-channel scales', `${quant.scale.length} scales`);
    return;
  }
  if (shape === null) return;
  const axis = quant.axis < 0 ? quant.axis + shape.length : quant.axis;
  if (!Number.isInteger(quant.axis) || axis < 0 || axis >= shape.length) {
    fail(`axis ${quant.axis} is out of range for rank ${shape.length}`, `an axis in [${-shape.length}, ${shape.length - 1}]`, String(quant.axis));
    return;
  }
  const dim = shape[axis];
  if (typeof dim === 'number' && quant.scale.length !== dim) {
    fail(`${quant.scale.length} scales for axis ${quant.axis} of size ${dim}`, `${dim} scales (one per channel)`, `${quant.scale.length}`);
  }
}
