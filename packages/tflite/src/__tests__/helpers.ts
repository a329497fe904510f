import { Graph, Model, Tensor, attrs, tensorType, type Diagnostic, type QuantParams } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { META_SIGNATURE_DEFS, registerTfliteDialect, tflitePasses } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';

/** Runs `pipeline` (legalize-tflite by default) with the tflite dialect and the transforms and tflite passes; its statistics and diagnostics. */
export async function runTflitePipeline(
  model: Model,
  pipeline = 'legalize-tflite',
  options: { verifyEach?: boolean } = {},
): Promise<{ statistics: Map<string, number>; diagnostics: readonly Diagnostic[] }> {
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  const statistics = new StatisticsInstrumentation();
  const result = await new PassManager({ environment, instrumentations: [statistics], ...(options.verifyEach !== undefined ? { verifyEach: options.verifyEach } : {}) }).run(model, pipeline);
  return { statistics: new Map(statistics.get(pipeline.split('{')[0]!) ?? []), diagnostics: result.diagnostics };
}

/** A model of the tflite dialect with a WHILE loop (cond/body regions), int8 per-channel and int4 constants and a signature. */
export function whileLoopModel(): Model {
  const graph = new Graph('main');
  const i0 = graph.addInput('i0', tensorType('int32', [1]));
  const x0 = graph.addInput('x0', tensorType('float32', [1, 4]));
  const loop = graph.createNode({
    op: 'tflite.WHILE',
    inputs: [i0, x0],
    outputs: [
      { name: 'i_final', type: tensorType('int32', [1]) },
      { name: 'x_final', type: tensorType('float32', [1, 4]) },
    ],
  });
  const cond = new Graph('cond');
  loop.setAttribute('cond_subgraph', attrs.graph(cond));
  const ci = cond.addInput('cond_i', tensorType('int32', [1]));
  cond.addInput('cond_x', tensorType('float32', [1, 4]));
  const limit = cond.addConstant('limit', Tensor.fromValues('int32', [1], [3]));
  const less = cond.createNode({ op: 'tflite.LESS', inputs: [ci, limit], outputs: [{ name: 'keep_going', type: tensorType('bool', [1]) }] });
  cond.setOutputs([less.output(0)]);
  const body = new Graph('body');
  loop.setAttribute('body_subgraph', attrs.graph(body));
  const bi = body.addInput('body_i', tensorType('int32', [1]));
  const bx = body.addInput('body_x', tensorType('float32', [1, 4]));
  const one = body.addConstant('one', Tensor.fromValues('int32', [1], [1]));
  const factor = body.addConstant('factor', Tensor.fromValues('float32', [1, 4], [2, 0.5, -1, 3]));
  const next = body.createNode({ op: 'tflite.ADD', inputs: [bi, one], outputs: [{ name: 'next_i', type: tensorType('int32', [1]) }], attributes: { fused_activation_function: attrs.string('NONE') } });
  const scaled = body.createNode({ op: 'tflite.MUL', inputs: [bx, factor], outputs: [{ name: 'next_x', type: tensorType('float32', [1, 4]) }], attributes: { fused_activation_function: attrs.string('NONE') } });
  body.setOutputs([next.output(0), scaled.output(0)]);
  graph.setOutputs([loop.output(0), loop.output(1)]);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  model.metadata.set(
    META_SIGNATURE_DEFS,
    JSON.stringify([{ key: 'serving_default', subgraph: 'main', inputs: [{ name: 'start', tensor: 'i0' }, { name: 'x', tensor: 'x0' }], outputs: [{ name: 'count', tensor: 'i_final' }, { name: 'y', tensor: 'x_final' }] }]),
  );
  return model;
}

export const INPUT_QUANT: QuantParams = { scale: [Math.fround(0.1)], zeroPoint: [2], bits: 8 };
export const FILTER_QUANT: QuantParams = { scale: [0.01, 0.02, 0.03].map(Math.fround), zeroPoint: [0, 0, 0], axis: 0, bits: 8 };
export const OUTPUT_QUANT: QuantParams = { scale: [Math.fround(0.05)], zeroPoint: [-3], bits: 8 };

/** An int8 CONV_2D (per-channel filter, int32 bias) with a RELU6 fused: a full-integer TFLite model. */
export function int8ConvModel(): Model {
  const graph = new Graph('main');
  const input = graph.addInput('input', tensorType('int8', [1, 4, 4, 2], INPUT_QUANT));
  const filterValues = Int8Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => ((i * 37) % 255) - 127);
  const filter = graph.addConstant('filter', Tensor.fromValues('int8', [3, 3, 3, 2], filterValues, FILTER_QUANT));
  const biasQuant: QuantParams = { scale: FILTER_QUANT.scale.map((s) => Math.fround(s * INPUT_QUANT.scale[0]!)), zeroPoint: [0, 0, 0], axis: 0, bits: 32 };
  const bias = graph.addConstant('bias', Tensor.fromValues('int32', [3], [100, -250, 40], biasQuant));
  const conv = graph.createNode({
    op: 'tflite.CONV_2D',
    inputs: [input, filter, bias],
    outputs: [{ name: 'output', type: tensorType('int8', [1, 4, 4, 3], OUTPUT_QUANT) }],
    attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(1), stride_h: attrs.int(1), fused_activation_function: attrs.string('RELU6') },
  });
  graph.setOutputs([conv.output(0)]);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}
