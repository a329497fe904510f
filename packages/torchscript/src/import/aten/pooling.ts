/**
 * Adaptive pooling: `adaptive_avg_pool{1,2,3}d` and `adaptive_max_pool{1,2}d` to any output size.
 * torch's bins along a dim of length L into n outputs are [floor(i·L/n), ceil((i+1)·L/n)). Output 1
 * is a global pool; an output size dividing L is a plain pool (kernel = stride = L/n); other sizes
 * (bins that overlap or differ in length) are, for averages, a constant averaging matrix per dim
 * (MatMul), which needs the input's static spatial sizes.
 */
import { Tensor } from '@modelpass/ir';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';

const NEEDS_SHAPE = 'give the input shape (CLI: --input-shape NAME=DIMS; API: readTorchScript option `inputs`)';

interface AdaptivePlan {
  x: TensorValue;
  rank: number;
  inputSizes: Array<number | undefined>;
  outputSizes: number[];
}

function plan(ctx: LoweringContext, spatialOf: number): AdaptivePlan {
  const x = ctx.tensor(ctx.arg(0), 'self');
  const shape = knownShape(x);
  const rank = x.rank ?? shape?.length ?? spatialOf + 2;
  const spatial = spatialOf;
  if (rank !== spatial + 2) return ctx.fail(`expected a batched ${spatial + 2}-d input, got rank ${rank} (unbatched inputs are not supported)`);
  const inputSizes = Array.from({ length: spatial }, (_, i) => {
    const d = shape?.[rank - spatial + i];
    return typeof d === 'number' ? d : undefined;
  });
  const raw = ctx.arg(1, 'output_size');
  const items = raw.kind === 'list' || raw.kind === 'tuple' ? raw.items : new Array(spatial).fill(raw);
  if (items.length !== spatial) return ctx.fail(`output_size has ${items.length} entries for ${spatial} spatial dims`);
  const outputSizes = items.map((item, i) => {
    if (item.kind === 'none') return inputSizes[i] ?? ctx.fail(`output_size ${i} is None (keep the input size), which is not known while importing`, NEEDS_SHAPE);
    const size = ctx.int(item, `output_size[${i}]`);
    if (size <= 0) return ctx.fail(`output_size[${i}] must be positive, got ${size}`);
    return size;
  });
  return { x, rank, inputSizes, outputSizes };
}

/** The [n, L] matrix averaging each of torch's bins. */
function averagingMatrix(inputLength: number, outputLength: number): Tensor {
  const values = new Array<number>(outputLength * inputLength).fill(0);
  for (let i = 0; i < outputLength; i++) {
    const start = Math.floor((i * inputLength) / outputLength);
    const end = Math.ceil(((i + 1) * inputLength) / outputLength);
    for (let j = start; j < end; j++) values[i * inputLength + j] = 1 / (end - start);
  }
  return Tensor.fromValues('float32', [outputLength, inputLength], values);
}

const adaptiveAvgPool: AtenLowering = (ctx) => {
  const spatial = Number(/(\d)d$/.exec(ctx.op)![1]);
  const { x, rank, inputSizes, outputSizes } = plan(ctx, spatial);
  if (outputSizes.every((size) => size === 1)) return ctx.emit('GlobalAveragePool', [x.value], {}, { rank, dtype: x.dtype });
  if (inputSizes.every((size, i) => size !== undefined && size % outputSizes[i]! === 0)) {
    const kernel = inputSizes.map((size, i) => size! / outputSizes[i]!);
    return ctx.emit('AveragePool', [x.value], { kernel_shape: kernel, strides: kernel }, { rank, dtype: x.dtype });
  }
  if (x.dtype !== undefined && x.dtype !== 'float32') return ctx.fail(`uneven adaptive average pooling of ${x.dtype} is not supported (float32 only)`);
  if (spatial > 2) return ctx.fail(`output size [${outputSizes.join(', ')}] does not divide the input; only 1-d and 2-d inputs are supported then`);
  const missing = inputSizes.findIndex((size) => size === undefined);
  if (missing >= 0) return ctx.fail(`output size [${outputSizes.join(', ')}] needs the input's spatial size ${missing}, which is not known while importing`, NEEDS_SHAPE);
  // Last dim: x · Aᵀ; the dim before it (2-d): A · x (MatMul broadcasts the matrix over batch and channels).
  const last = averagingMatrix(inputSizes[spatial - 1]!, outputSizes[spatial - 1]!);
  const lastT = Tensor.fromValues('float32', [last.shape[1]!, last.shape[0]!], transpose(last));
  let result = ctx.emit('MatMul', [x.value, ctx.builder.constant(lastT, 'adaptive_pool')], {}, { rank, dtype: 'float32' });
  if (spatial === 2) {
    const rows = averagingMatrix(inputSizes[0]!, outputSizes[0]!);
    result = ctx.emit('MatMul', [ctx.builder.constant(rows, 'adaptive_pool'), result.value], {}, { rank, dtype: 'float32' });
  }
  return result;
};

function transpose(matrix: Tensor): number[] {
  const [rows, cols] = [matrix.shape[0]!, matrix.shape[1]!];
  const values = matrix.toNumbers();
  const out = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * `adaptive_max_pool{1,2}d` → (values, indices), indices into each channel's flattened spatial
 * plane as torch gives them. Output 1 or sizes dividing the input (a MaxPool whose indices,
 * counted over the whole tensor, are taken modulo the plane size).
 */
const adaptiveMaxPool: AtenLowering = (ctx) => {
  const spatial = Number(/(\d)d$/.exec(ctx.op)![1]);
  const { x, rank, inputSizes, outputSizes } = plan(ctx, spatial);
  if (!inputSizes.every((size, i) => size !== undefined && size % outputSizes[i]! === 0)) {
    if (outputSizes.every((size) => size === 1)) {
      const values = ctx.emit('GlobalMaxPool', [x.value], {}, { rank, dtype: x.dtype });
      const flat = ctx.emit('Reshape', [x.value, ctx.int64Vector([0, 0, -1])], {}, { rank: 3, dtype: x.dtype });
      const argmax = ctx.emit('ArgMax', [flat.value], { axis: 2, keepdims: 1 }, { rank: 3, dtype: 'int64' });
      const indices = ctx.emit('Reshape', [argmax.value, ctx.int64Vector([0, 0, ...new Array<number>(spatial).fill(1)])], {}, { rank, dtype: 'int64' });
      return { kind: 'tuple', items: [values, indices] };
    }
    return ctx.fail(`output size [${outputSizes.join(', ')}] must divide the input's spatial sizes (known while importing)`, NEEDS_SHAPE);
  }
  const kernel = inputSizes.map((size, i) => size! / outputSizes[i]!);
  const [values, rawIndices] = ctx.emitMany('MaxPool', [x.value], { kernel_shape: kernel, strides: kernel }, 2, { rank });
  values!.dtype = x.dtype;
  const plane = inputSizes.reduce<number>((a, b) => a * b!, 1);
  const indices = ctx.emit('Mod', [rawIndices!.value, ctx.scalarConstant('int64', plane).value], {}, { rank, dtype: 'int64' });
  return { kind: 'tuple', items: [values!, indices] };
};

export const poolingLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['adaptive_avg_pool1d', adaptiveAvgPool],
  ['adaptive_avg_pool2d', adaptiveAvgPool],
  ['adaptive_avg_pool3d', adaptiveAvgPool],
  ['adaptive_max_pool1d', adaptiveMaxPool],
  ['adaptive_max_pool2d', adaptiveMaxPool],
];
