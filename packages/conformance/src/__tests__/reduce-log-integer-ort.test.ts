/**
 * note12 item 2: ReduceLogSum on int32 values whose sum is ≤ 0 gave 0 from the reference kernel (a JavaScript
 * Int32Array stores -inf and NaN as 0) and threw on int64 (BigInt(-Infinity)), where ONNX Runtime 1.30 gives
 * INT_MIN / INT64_MIN (its cast of -inf/NaN). ReduceLogSumExp on uint32/uint64, which ORT runs through ONNX's
 * function body (log(sum(exp(x))) in double, no shift), gives 0 once exp overflows. ORT is the referee here:
 * every integer type ORT runs, at the opsets with the axes attribute (13) and input (18), and the element-wise
 * noop_with_empty_axes form, must match it exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type DType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { runReference } from '@modelpass/ops';
import { runOrtOnce, toOrtValue } from '@modelpass/conformance';

/** Pairs reduced over axis 1: sums ≤ 0 (log → -inf or NaN), ordinary ones, a sum past int32 and exps past double. */
const SIGNED_ROWS = [[0, 0], [-3, 1], [1, 2], [5, -5], [2e9, 2e9], [-1, 0], [3, 4], [100, 100], [-100, -100], [-2e9, -2e9], [1, 0], [60, 60], [800, 0], [-100, 50]];
const UNSIGNED_ROWS = SIGNED_ROWS.filter(([a, b]) => a! >= 0 && b! >= 0);

interface Case {
  readonly op: 'ReduceLogSum' | 'ReduceLogSumExp';
  readonly dtype: DType;
  readonly opset: 13 | 18;
  readonly noop?: true;
}

const CASES: Case[] = [
  ...(['int32', 'int64'] as const).flatMap((dtype) => (['ReduceLogSum', 'ReduceLogSumExp'] as const).flatMap((op) => ([13, 18] as const).map((opset): Case => ({ op, dtype, opset })))),
  // ORT has no uint32/uint64 kernel of either; at opset 18 it runs ReduceLogSumExp's function body (ReduceLogSum's does not load).
  { op: 'ReduceLogSumExp', dtype: 'uint32', opset: 18 },
  { op: 'ReduceLogSumExp', dtype: 'uint64', opset: 18 },
  { op: 'ReduceLogSum', dtype: 'int32', opset: 18, noop: true },
  { op: 'ReduceLogSum', dtype: 'int64', opset: 18, noop: true },
];

function oneNodeModel(c: Case, rows: number) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType(c.dtype, [rows, 2]));
  const keep = { keepdims: attrs.int(0) };
  const y = c.noop
    ? b.op1(`onnx.${c.op}`, [x], { noop_with_empty_axes: attrs.int(1) })
    : c.opset >= 18
      ? b.op1(`onnx.${c.op}`, [x, b.constant(Tensor.fromValues('int64', [1], [1n]), 'axes')], keep)
      : b.op1(`onnx.${c.op}`, [x], { ...keep, axes: attrs.ints([1]) });
  y.type = tensorType(c.dtype, c.noop ? [rows, 2] : [rows]);
  b.output(y);
  return { model: b.model({ onnx: c.opset }), output: y.name };
}

describe('integer ReduceLogSum / ReduceLogSumExp follow ONNX Runtime where log or exp leaves the reals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelpass-reduce-log-int-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(CASES.map((c) => [`${c.op} ${c.dtype} opset ${c.opset}${c.noop ? ' noop_with_empty_axes' : ''}`, c] as const))('%s', async (name, c) => {
    const rows = c.dtype.startsWith('u') ? UNSIGNED_ROWS : SIGNED_ROWS;
    const wide = c.dtype === 'int64' || c.dtype === 'uint64';
    const x = Tensor.fromValues(c.dtype, [rows.length, 2], rows.flat().map((v) => (wide ? BigInt(v) : v)) as number[]);
    const { model, output } = oneNodeModel(c, rows.length);
    const path = join(dir, `${name.replace(/\W+/g, '_')}.onnx`);
    writeOnnx(model, path);
    const theirs = Array.from((await runOrtOnce(path, { x: toOrtValue({ kind: 'tensor', tensor: x }) }))[output]!.data as ArrayLike<number | bigint>, String);
    const ours = Array.from((runReference(model, { x }).get(output) as Tensor).data() as ArrayLike<number | bigint>, String);
    expect(ours).toEqual(theirs);
  });

  test('the cases reach the values in question (ORT gives the type minimum for a sum ≤ 0)', async () => {
    const { model, output } = oneNodeModel({ op: 'ReduceLogSum', dtype: 'int32', opset: 13 }, 1);
    const path = join(dir, 'minimum.onnx');
    writeOnnx(model, path);
    const x = Tensor.fromValues('int32', [1, 2], [-3, 1]);
    expect(Array.from((await runOrtOnce(path, { x: toOrtValue({ kind: 'tensor', tensor: x }) }))[output]!.data as Int32Array)).toEqual([-2147483648]);
    expect(Array.from((runReference(model, { x }).get(output) as Tensor).data() as Int32Array)).toEqual([-2147483648]);
  });
});
