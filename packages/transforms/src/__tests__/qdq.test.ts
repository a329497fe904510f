/**
 * materialize-qdq and fold-qdq beyond the goldens: the round trip materialize → fold → materialize
 * is the identity on every golden, and bad quant types, disagreeing Q/DQ parameters and too-old
 * opsets are refused with located errors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, printModel, type Model } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { foldQdq, materializeQdq, transformPasses } from '@modelpass/transforms';

const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;

async function run(model: Model, pipeline: string, debug?: string[]): Promise<Model> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  const manager = new PassManager({ environment, verifyEach: true, ...(debug ? { debug: (m: string) => void debug.push(m) } : {}) });
  await manager.run(model, pipeline);
  return model;
}

function casesOf(pass: string): { name: string; input: string; options: string }[] {
  const dir = join(FIXTURES, pass);
  return readdirSync(dir)
    .filter((name) => !name.startsWith('declines-'))
    .map((name) => {
      let options = '';
      try {
        const json = JSON.parse(readFileSync(join(dir, name, 'options.json'), 'utf8')) as Record<string, unknown>;
        options = `{${Object.entries(json).map(([k, v]) => `${k}=${String(v)}`).join(' ')}}`;
      } catch {
        // no options.json
      }
      return { name, input: readFileSync(join(dir, name, 'input.mpir'), 'utf8'), options };
    });
}

const printed = (text: string) => printModel(parseModel(text));

/** Cases whose input spells a QuantizeLinear of a graph input: materialize keeps it, fold cannot take it back. */
const NOT_INVERTIBLE = new Set(['spelled-quantize-kept']);

describe('materialize-qdq and fold-qdq are inverses on the goldens', () => {
  it.each(casesOf('materialize-qdq').filter((c) => !NOT_INVERTIBLE.has(c.name)))('materialize → fold → materialize: $name', async ({ input, options }) => {
    const lowered = await run(parseModel(input), `materialize-qdq${options}`);
    const loweredText = printModel(lowered);
    const folded = await run(parseModel(loweredText), 'fold-qdq');
    const original = parseModel(input);
    if (options.includes('bump-opset')) original.opsetImports.set('onnx', lowered.opset('onnx')!);
    expect(printModel(folded)).toBe(printModel(original));
    const again = await run(folded, 'materialize-qdq');
    expect(printModel(again)).toBe(loweredText);
  });

  it.each(casesOf('fold-qdq').filter((c) => !c.input.includes('QuantizeLinear_Output')))('fold → materialize: $name', async ({ input }) => {
    const folded = await run(parseModel(input), 'fold-qdq');
    const again = await run(folded, 'materialize-qdq');
    expect(printModel(again)).toBe(printed(input));
  });

  it("survives inferShapes (merge and refresh): ops compute on the reals, quant types stay", async () => {
    const text = readFileSync(join(FIXTURES, 'fold-qdq/per-tensor-int8-weight-uint8-activation/output.mpir'), 'utf8');
    for (const mode of ['merge', 'refresh'] as const) {
      const model = parseModel(text);
      const result = inferShapes(model, { mode });
      expect(result.diagnostics, mode).toEqual([]);
      expect(printModel(model), mode).toBe(printed(text));
    }
  });

  it('leaves no quant type behind and every Q/DQ pair in place', async () => {
    const model = await run(parseModel(readFileSync(join(FIXTURES, 'materialize-qdq/per-axis-conv-int8/input.mpir'), 'utf8')), 'materialize-qdq');
    expect(printModel(model)).not.toContain('quant<');
  });
});

/** Runs a pipeline that must refuse the model, and checks the refusal left the model as it was. */
async function refusal(text: string, pipeline = 'materialize-qdq'): Promise<ModelpassError> {
  const model = parseModel(text);
  try {
    await run(model, pipeline);
  } catch (error) {
    const found = ModelpassError.is(error) ? error : undefined;
    if (!found) throw error;
    expect(printModel(model), 'a refused model is left untouched').toBe(printed(text));
    return found;
  }
  throw new Error('expected a refusal');
}

function allText(error: ModelpassError): string {
  return [error.message, ...error.diagnostics.map((d) => `${d.reason} ${d.hint ?? ''} ${(d.notes ?? []).join(' ')} ${d.expected ?? ''} ${d.actual ?? ''}`)].join('\n');
}

const PER_AXIS_OPSET_11 = `model ir_version=6 opsets{onnx=11} {
graph @main(%x: float32[1,2,2,2]) {
  const %w: int8[2,2,1,1] quant<bits=8, axis=0, scale=[0.5, 0.25], zero_point=[0, 0]> = tensor<int8[2,2,1,1]> [1, 2, -3, 4]
  %c: float32[1,2,2,2] = onnx.Conv(%x, %w) {kernel_shape=[1, 1]} name="conv"
  %y: float32[1,2,2,2] = onnx.Relu(%c) name="relu"
  return %y
}
}`;

describe('materialize-qdq refuses what ONNX cannot say', () => {
  it('refuses per-axis scales below opset 13 and names the value and the option', async () => {
    const text = allText(await refusal(PER_AXIS_OPSET_11));
    expect(text).toContain("value 'w' needs onnx opset 13 for per-axis scales");
    expect(text).toContain('the model imports opset 11');
    expect(text).toContain('bump-opset=true');
  });

  it('refuses to raise the opset over ops that ONNX redefined in between (Relu-13)', async () => {
    const text = allText(await refusal(PER_AXIS_OPSET_11, 'materialize-qdq{bump-opset=true}'));
    expect(text).toContain('Relu (new definition in opset 13)');
  });

  it('refuses int16 storage below opset 21', async () => {
    const text = allText(await refusal(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[4]) {
  %y: int16[4] quant<bits=16, scale=[0.5], zero_point=[0]> = onnx.Relu(%x) name="relu"
  return %y
}
}`));
    expect(text).toContain('needs onnx opset 21 for int16 storage');
  });

  it('refuses a quant<> type whose dtype is not an integer storage type', async () => {
    const text = allText(await refusal(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[4]) {
  %y: float32[4] quant<bits=8, scale=[0.5], zero_point=[0]> = onnx.Relu(%x) name="relu"
  return %y
}
}`));
    expect(text).toMatch(/float32/);
    expect(text).toMatch(/storage/);
  });

  it('refuses a QuantizeLinear that disagrees with the type it produces (two sources of truth)', async () => {
    const text = allText(await refusal(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[4]) {
  const %w = tensor<int8[4] quant<bits=8, scale=[0.5], zero_point=[0]>> [1, 2, 3, 4]
  %m: float32[4] = onnx.Mul(%x, %w) name="mul"
  const %s = tensor<float32[]> [0.25]
  const %z = tensor<int8[]> [0]
  %q: int8[4] quant<bits=8, scale=[0.5], zero_point=[0]> = onnx.QuantizeLinear(%m, %s, %z) name="quantize"
  return %q
}
}`));
    expect(text).toContain("disagrees with the quant<> type of 'q'");
    expect(text).toContain('scale=[0.25]');
  });

  it('refuses int32 on a computed value (QuantizeLinear cannot produce int32)', async () => {
    const text = allText(await refusal(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[4]) {
  %y: int32[4] quant<bits=32, scale=[0.5], zero_point=[0]> = onnx.Relu(%x) name="relu"
  return %y
}
}`));
    expect(text).toContain('QuantizeLinear cannot produce int32');
  });
});

describe('fold-qdq says why it leaves a pair alone', () => {
  it.each([
    ['declines-requantization', "is dequantized by 'dequantize' with int8 scale=[0.25]"],
    ['declines-dequantized-graph-output', "its output 'd' is a graph output"],
    ['declines-computed-scale', "its scale 's' is not a constant"],
  ])('%s', async (name, reason) => {
    const debug: string[] = [];
    const input = readFileSync(join(FIXTURES, 'fold-qdq', name, 'input.mpir'), 'utf8');
    const model = await run(parseModel(input), 'fold-qdq', debug);
    expect(printModel(model)).toBe(printed(input));
    expect(debug.join('\n')).toContain(reason);
  });

  it('folds QuantizeLinear → DequantizeLinear into the producer of the reals, keeping the integer name', async () => {
    const model = await run(parseModel(readFileSync(join(FIXTURES, 'fold-qdq/ort-style-shared-scales/input.mpir'), 'utf8')), 'fold-qdq');
    const relu = [...model.graph.nodes()].find((n) => n.name === 'relu')!;
    expect(relu.output(0).name).toBe('relu_out_QuantizeLinear_Output');
    expect(printModel(model)).not.toContain('DequantizeLinear');
  });

  it('is exported with materializeQdq for registries', () => {
    expect(transformPasses).toContain(foldQdq);
    expect(transformPasses).toContain(materializeQdq);
  });
});
