// QA s15 round 8: a mutated MediaPipe .tflite whose output TFLite sized at 6 GiB made `compare` die with
// 'internal error: Invalid typed array length: 6442508288' (the exchange view over the runtime's tensor).
// Now a ModelpassError names the tensor, its shape, the file and the limit, when the model is loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { writeTflite } from '@modelpass/tflite';
import { TfliteEngine } from '@modelpass/runtime';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-oversized-'));
const engine = new TfliteEngine();
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** x float32[1,4] → TILE by [1, m] → y float32[1, 4·m] (TFLite sizes y at load; nothing is run). */
function tileModel(m: number): string {
  const g = new Graph('main');
  const x = g.addInput('x', tensorType('float32', [1, 4]));
  const multiples = g.addConstant('multiples', Tensor.fromValues('int32', [2], [1, m]));
  const node = g.createNode({ op: 'tflite.TILE', name: 'tile', inputs: [x, multiples], outputs: [{ name: 'y', type: tensorType('float32', [1, 4 * m]) }] });
  g.setOutputs([node.output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  const path = join(dir, `tile-${m}.tflite`);
  writeTflite(model, path);
  return path;
}

describe('a TFLite tensor larger than one exchange buffer', () => {
  it('is refused by name, shape and size (6 GiB output), not a raw RangeError', async () => {
    const path = tileModel(3 * 2 ** 27);
    const x = Tensor.fromValues('float32', [1, 4], [1, 2, 3, 4]);
    let error: unknown;
    try {
      await engine.run(path, new Map([['x', x]]));
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const diagnostic = (error as ModelpassError).diagnostics[0]!;
    expect(diagnostic.reason).toMatch(/^the TFLite runtime holds tensor 'y' float32\[1,1610612736\] in 6442450944 bytes, more than one buffer can exchange/);
    expect(diagnostic.expected).toBe('a tensor of at most 4294967296 bytes');
    expect(diagnostic.location?.file).toBe(path);
  });

  it('still runs the same model at a small size', async () => {
    const outputs = await engine.run(tileModel(3), new Map([['x', Tensor.fromValues('float32', [1, 4], [1, 2, 3, 4])]]));
    expect([...outputs.get('y')!.toNumbers()]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  });
});
