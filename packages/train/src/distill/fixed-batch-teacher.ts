/**
 * A teacher whose input has a fixed batch dimension (`[1,3,16,16]`, as most exports without dynamic axes) runs
 * the student's batches in runs of that size: the batch is split, the last part padded with zeros, and each
 * output's rows are joined and cut back to the batch. Fed whole, ONNX Runtime refused every batch ("Got invalid
 * dimensions for input: x … Got: 20 Expected: 1", with a hint about sample layouts; QA s12).
 */
import { Tensor, type DType } from '@modelpass/ir';

type Run = (feeds: Readonly<Record<string, Tensor>>, outputs: readonly string[]) => Promise<Map<string, Tensor>>;

/** Rows `start … start + count` of `tensor` as a tensor of `size` rows (zeros after them). */
function rows(tensor: Tensor, start: number, count: number, size: number): Tensor {
  const rowBytes = tensor.byteLength / tensor.shape[0]!;
  const bytes = new Uint8Array(rowBytes * size);
  bytes.set(tensor.bytes().subarray(start * rowBytes, (start + count) * rowBytes));
  return Tensor.fromBytes(tensor.dtype, [size, ...tensor.shape.slice(1)], bytes);
}

interface Joined {
  dtype: DType;
  rowShape: readonly number[];
  parts: Uint8Array[];
}

/**
 * `run` taking batches of any size, for a teacher whose input `input` takes exactly `fixed` samples per run.
 * `fail(reason)` makes the error for an output that is not one row per sample.
 */
export function inFixedBatches(run: Run, input: string, fixed: number, fail: (reason: string) => Error): Run {
  return async (feeds, outputs) => {
    const batch = feeds[input]!;
    const total = batch.shape[0]!;
    if (total === fixed) return run(feeds, outputs);
    const joined = new Map<string, Joined>();
    for (let start = 0; start < total; start += fixed) {
      const count = Math.min(fixed, total - start);
      const result = await run({ ...feeds, [input]: rows(batch, start, count, fixed) }, outputs);
      for (const [name, tensor] of result) {
        if (tensor.shape[0] !== fixed) {
          throw fail(`its input takes a fixed batch of ${fixed}, and output '${name}' is ${tensor.dtype}[${tensor.shape.join(',')}], not one row per sample, so batches of ${total} cannot be run in parts`);
        }
        const rowBytes = tensor.byteLength / fixed;
        const entry = joined.get(name) ?? { dtype: tensor.dtype, rowShape: tensor.shape.slice(1), parts: [] };
        entry.parts.push(tensor.bytes().slice(0, rowBytes * count));
        joined.set(name, entry);
      }
    }
    const result = new Map<string, Tensor>();
    for (const [name, { dtype, rowShape, parts }] of joined) {
      const bytes = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.byteLength;
      }
      result.set(name, Tensor.fromBytes(dtype, [total, ...rowShape], bytes));
    }
    return result;
  };
}
