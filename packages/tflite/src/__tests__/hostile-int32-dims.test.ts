/**
 * A dim past int32: TFLite stores shapes as int32, so the writer refuses it by value and axis before
 * anything is written (QA s15 round 8: an ONNX input [1, 3000000000] was written as -1294967296 with
 * exit 0, and the reader then refused the file it had just written).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { lowerToTflite, readTflite, writeTflite } from '@modelpass/tflite';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-int32-dims-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const registry = createOpRegistry();

function reluModel(dim: number) {
  const b = new GraphBuilder();
  b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [1, dim]))]));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  lowerToTflite(model, registry);
  return model;
}

describe('dims past int32', () => {
  it('are refused by the writer naming the value, the dim and the axis; no file is left', () => {
    const path = join(temp, 'big.tflite');
    let error: unknown;
    try {
      writeTflite(reluModel(3_000_000_000), path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toContain("cannot write '");
    expect((error as ModelpassError).diagnostics.flatMap((d) => d.notes ?? []).join('\n')).toContain("'x' has dim 3000000000 (axis 1); TFLite stores shapes as int32, at most 2147483647");
    expect(existsSync(path)).toBe(false);
  });

  it('the largest int32 dim is written and read back as it is', () => {
    const path = join(temp, 'max.tflite');
    writeTflite(reluModel(2 ** 31 - 1), path);
    const input = readTflite(path).graph.inputs[0]!;
    expect(input.type).toMatchObject({ dtype: 'float32', shape: [1, 2 ** 31 - 1] });
  });
});
