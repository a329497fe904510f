/**
 * `com.microsoft.GatherBlockQuantized` (ORT docs/ContribOperators.md): Gather of a constant table
 * quantized block-wise along one axis, dequantized after the gather — an int4/int8 embedding table.
 *
 *   data: uint8 with `bits` 4 or 8 (4 bits: two codes a byte, low nibble first, so the quantized
 *   axis holds half the logical size) or int4/uint4; indices int32/int64; scales of the output type,
 *   data's shape with the quantized axis divided into ceil(size / block_size) blocks; zero_points
 *   (optional) like data, scales' shape (packed the same way for uint8 with 4 bits), absent: 2^(bits-1)
 *   for uint8 data, 0 for int4/uint4. Output: Gather's shape with the quantized axis unpacked.
 *
 * The verify hook reports what ONNX Runtime refuses at load: a block size that is not a power of
 * two ≥ 16, bits other than 4 or 8, and scales shaped for another block count.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { inputShape, inputTensorType, shapeOfType, staticDim } from '../util/inference.js';
import { intAttribute, reportAt } from '../verify/verify-context.js';
import { defineContribOp, MICROSOFT_DIALECT } from './contrib-op.js';

export const GATHER_BLOCK_QUANTIZED_INPUTS = { data: 0, indices: 1, scales: 2, zeroPoints: 3 } as const;

function normalizedAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** The quantized axis' logical size from data's stored size (uint8 with 4 bits packs two a byte). */
function unpackedSize(stored: Dim, dtype: string | undefined, bits: number): Dim {
  const size = staticDim(stored);
  if (size === undefined) return null;
  return dtype === 'uint8' ? (size * 8) / bits : size;
}

export const gatherBlockQuantizedOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.GatherBlockQuantized`,
  summary: 'Gather of a table block-quantized along one axis (4 or 8 bits), dequantized after the gather',
  inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'scales' }, { name: 'zero_points', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: {
    bits: { kind: 'int', default: 4 },
    block_size: { kind: 'int', default: 128 },
    gather_axis: { kind: 'int', default: 0 },
    quantize_axis: { kind: 'int', default: 1 },
  },
  verify(context) {
    const { node } = context;
    const blockSize = intAttribute(node, 'block_size') ?? 128;
    if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
      reportAt(context, 'gather-block-quantized-block-size', `block_size is ${blockSize}`, { expected: 'a power of two ≥ 16 (16, 32, 64, 128, …)', actual: String(blockSize) });
    }
    const bits = intAttribute(node, 'bits') ?? 4;
    if (bits !== 4 && bits !== 8) reportAt(context, 'gather-block-quantized-bits', `bits is ${bits}`, { expected: '4 or 8', actual: String(bits) });
    const data = shapeOfType(node.inputs[0]?.type);
    const scales = shapeOfType(node.inputs[2]?.type);
    if (!data || !scales) return;
    const axis = normalizedAxis(intAttribute(node, 'quantize_axis') ?? 1, data.length);
    if (scales.length !== data.length) {
      reportAt(context, 'gather-block-quantized-scales', `scales has rank ${scales.length} but data has rank ${data.length}`, { expected: `rank ${data.length}` });
      return;
    }
    const first = node.inputs[0]?.type;
    const dtype = first?.kind === 'tensor' ? first.dtype : undefined;
    data.forEach((dim, d) => {
      const logical = staticDim(d === axis ? unpackedSize(dim, dtype, bits) : dim);
      const want = logical === undefined ? undefined : d === axis ? Math.ceil(logical / blockSize) : logical;
      const have = staticDim(scales[d]);
      if (want !== undefined && have !== undefined && want !== have) {
        reportAt(context, 'gather-block-quantized-scales', `scales' dim ${d} is ${have} but data needs ${want}${d === axis ? ` (ceil(${logical}/${blockSize}) blocks)` : ''}`, { expected: String(want), actual: String(have) });
      }
    });
  },
  inferTypes(context) {
    const dtype = inputTensorType(context, GATHER_BLOCK_QUANTIZED_INPUTS.scales)?.dtype;
    if (!dtype) return [undefined];
    const data = inputShape(context, GATHER_BLOCK_QUANTIZED_INPUTS.data);
    const indices = inputShape(context, GATHER_BLOCK_QUANTIZED_INPUTS.indices);
    if (!data || !indices) return [tensorType(dtype, null)];
    const node = context.node;
    const bits = node.optionalAttr('bits', 'int') ?? 4;
    const gatherAxis = normalizedAxis(node.optionalAttr('gather_axis', 'int') ?? 0, data.length);
    const quantizeAxis = normalizedAxis(node.optionalAttr('quantize_axis', 'int') ?? 1, data.length);
    const dataDtype = inputTensorType(context, GATHER_BLOCK_QUANTIZED_INPUTS.data)?.dtype;
    const logical = data.map((dim, d) => (d === quantizeAxis ? unpackedSize(dim, dataDtype, bits) : dim));
    return [tensorType(dtype, [...logical.slice(0, gatherAxis), ...indices, ...logical.slice(gatherAxis + 1)])];
  },
});
