import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, attrs, tensorType, verifyModel } from '@modelpass/ir';
import { builtinCode, builtinOfOp, registerTfliteDialect, tfliteOpSchemas } from '@modelpass/tflite';

describe('tflite dialect', () => {
  it('has one op per non-deprecated BuiltinOperator of schema revision 3d, named tflite.<BUILTIN>', () => {
    const ops = tfliteOpSchemas().map((schema) => schema.op);
    expect(ops.length).toBe(209);
    expect(ops).toContain('tflite.CONV_2D');
    expect(ops).toContain('tflite.CUSTOM');
    expect(ops).not.toContain('tflite.REDUCE_WINDOW');
    expect(builtinCode('CONV_2D')).toBe(3);
    expect(builtinCode('STABLEHLO_COMPOSITE')).toBe(206);
    expect(builtinOfOp('tflite.FULLY_CONNECTED')).toBe('FULLY_CONNECTED');
    expect(builtinOfOp('onnx.Conv')).toBeUndefined();
  });

  it('types options fields as attributes with the schema names, enums as their member names', () => {
    const registry = registerTfliteDialect();
    const conv = registry.get('tflite.CONV_2D')!;
    expect(Object.keys(conv.attributes)).toEqual(['padding', 'stride_w', 'stride_h', 'fused_activation_function', 'dilation_w_factor', 'dilation_h_factor', 'quantized_bias_type']);
    expect(conv.attributes.padding).toMatchObject({ kind: 'string', oneOf: ['SAME', 'VALID'], default: 'SAME' });
    expect(conv.attributes.dilation_w_factor).toMatchObject({ kind: 'int', default: 1 });
    expect(conv.inputs.map((operand) => operand.name)).toEqual(['input', 'filter', 'bias']);
    expect(registry.get('tflite.FULLY_CONNECTED')!.attributes.keep_num_dims).toMatchObject({ kind: 'int', oneOf: [0, 1], default: 0 });
    expect(registry.get('tflite.RESHAPE')!.attributes.new_shape).toMatchObject({ kind: 'ints' });
    expect(registry.get('tflite.WHILE')!.attributes).toHaveProperty('body_subgraph');
    expect(registry.get('tflite.WHILE')!.attributes.body_subgraph!.kind).toBe('graph');
    expect(registry.get('tflite.CUSTOM')!.attributes.custom_options!.kind).toBe('tensor');
  });

  it('infers NHWC conv shapes and the verifier accepts a tflite graph', () => {
    const registry = registerTfliteDialect();
    const graph = new Graph('main');
    const input = graph.addInput('x', tensorType('float32', [1, 16, 16, 3]));
    const filter = graph.addConstant('w', Tensor.fromValues('float32', [8, 3, 3, 3], new Float32Array(216)));
    const node = graph.createNode({
      op: 'tflite.CONV_2D',
      inputs: [input, filter, null],
      outputs: [tensorType('float32', [1, 8, 8, 8])],
      attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(2), stride_h: attrs.int(2), fused_activation_function: attrs.string('RELU6') },
    });
    graph.setOutputs([node.output(0)]);
    expect(registry.inferNode(node)).toEqual([tensorType('float32', [1, 8, 8, 8])]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    expect(verifyModel(model, { registry }).filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('generated schema code', () => {
  it('matches src/schema/tflite.fbs (npm run generate leaves src/generated unchanged)', () => {
    const script = fileURLToPath(new URL('../../scripts/generate-schema.mjs', import.meta.url));
    const output = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(output).toContain('src/generated matches');
  }, 60_000);
});
