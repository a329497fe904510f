import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsEqual } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { decodeModelProto, FLOAT, modelBytes, tempDir, tensorInfo } from './helpers.js';

const PYTHON = '/usr/bin/python3';

/** Builds, with Python onnx 1.12, a model using training_info, quantization_annotation and denotations. */
const BUILD = String.raw`
import sys, onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 4, 4])
x.type.denotation = 'TENSOR'
for dim, name in zip(x.type.tensor_type.shape.dim, ['DATA_BATCH', 'DATA_CHANNEL', 'DATA_FEATURE', 'DATA_FEATURE']):
    dim.denotation = name
y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 3, 4, 4])
y.type.tensor_type.shape.dim[0].denotation = 'DATA_BATCH'
w = helper.make_tensor('w', TensorProto.FLOAT, [1], [2.0])
scale = helper.make_tensor('w_scale', TensorProto.FLOAT, [], [0.5])
zero = helper.make_tensor('w_zero', TensorProto.INT8, [], [0])
graph = helper.make_graph([helper.make_node('Mul', ['x', 'w'], ['y'], name='mul')], 'g', [x], [y], [w, scale, zero])
annotation = graph.quantization_annotation.add()
annotation.tensor_name = 'w'
for key, value in (('SCALE_TENSOR', 'w_scale'), ('ZERO_POINT_TENSOR', 'w_zero')):
    entry = annotation.quant_parameter_tensor_names.add(); entry.key = key; entry.value = value
init = helper.make_graph([helper.make_node('Constant', [], ['w_init'], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [1.0]))], 'init', [], [helper.make_tensor_value_info('w_init', TensorProto.FLOAT, [1])])
step = helper.make_graph([helper.make_node('Add', ['w', 'w'], ['w_new'], name='step')], 'algorithm', [], [helper.make_tensor_value_info('w_new', TensorProto.FLOAT, [1])])
training = helper.make_training_info(step, [('w', 'w_new')], init, [('w', 'w_init')])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
model.training_info.append(training)
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, sys.argv[1])
`;

/** Prints, as JSON, what a round trip must keep, after ONNX's full check of the file. */
const DESCRIBE = String.raw`
import sys, json, onnx
from google.protobuf.json_format import MessageToDict
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
types = {v.name: MessageToDict(v.type) for v in list(m.graph.input) + list(m.graph.output)}
print(json.dumps({
  'training_info': [MessageToDict(t) for t in m.training_info],
  'quantization_annotation': [MessageToDict(a) for a in m.graph.quantization_annotation],
  'types': types,
  'metadata_keys': [p.key for p in m.metadata_props],
}, sort_keys=True))
`;

function python(script: string, ...args: string[]): string {
  const run = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
  return run.stdout;
}

describe('ONNX facts without an IR field survive a round trip', () => {
  it('training_info, quantization_annotation and denotations: equal after readOnnx/writeOnnx, and the checker accepts the copy', () => {
    const folder = tempDir('annotations');
    const source = join(folder, 'source.onnx');
    const copy = join(folder, 'copy.onnx');
    python(BUILD, source);
    const model = readOnnx(source);
    writeOnnx(model, copy);
    const before = JSON.parse(python(DESCRIBE, source));
    const after = JSON.parse(python(DESCRIBE, copy));
    expect(before.training_info).toHaveLength(1);
    expect(before.quantization_annotation).toHaveLength(1);
    expect(before.types.x.denotation).toBe('TENSOR');
    expect(after).toEqual(before);
    expect(after.metadata_keys).toEqual([]);
  });

  it('quantization annotations of tensors a pass removed are not written back', () => {
    const folder = tempDir('annotations-pruned');
    const source = join(folder, 'source.onnx');
    python(BUILD, source);
    const model = readOnnx(source);
    model.graph.lookup('w_zero')!.rename('renamed_zero');
    const w = model.graph.lookup('w')!;
    w.rename('weight');
    const proto = decodeModelProto(encodeOnnx(model));
    expect(proto.graph!.quantization_annotation ?? []).toEqual([]);
  });

  it('denotations are dropped, not misplaced, when a pass changes the rank', () => {
    const folder = tempDir('annotations-rank');
    const source = join(folder, 'source.onnx');
    python(BUILD, source);
    const model = readOnnx(source);
    const x = model.graph.inputs[0]!;
    x.type = { kind: 'tensor', dtype: 'float32', shape: ['N', 48] };
    const proto = decodeModelProto(encodeOnnx(model));
    const type = proto.graph!.input![0]!.type!;
    expect(type.denotation).toBe('TENSOR');
    expect(type.tensor_type!.shape!.dim!.map((d) => d.denotation ?? '')).toEqual(['', '']);
  });

  it('device configurations of the model and of nodes (IR 11) are carried as they were', () => {
    const bytes = modelBytes({
      ir_version: 11,
      opset_import: [{ domain: '', version: 13 }],
      configuration: [{ name: 'two-gpus', num_devices: 2, device: ['cuda:0', 'cuda:1'] }],
      graph: {
        name: 'g',
        node: [
          {
            op_type: 'Relu',
            name: 'relu',
            input: ['x'],
            output: ['y'],
            device_configurations: [{ configuration_id: 'two-gpus', sharding_spec: [{ tensor_name: 'x', device: [0, 1], sharded_dim: [{ axis: 0, simple_sharding: [{ dim_value: 8, num_shards: 2 }] }] }], pipeline_stage: 1 }],
          },
        ],
        input: [tensorInfo('x', FLOAT, [8])],
        output: [tensorInfo('y', FLOAT, [8])],
      },
    });
    const folder = tempDir('devices');
    writeFileSync(join(folder, 'source.onnx'), bytes);
    writeOnnx(readOnnx(join(folder, 'source.onnx')), join(folder, 'copy.onnx'));
    const original = decodeModelProto(bytes);
    const copy = decodeModelProto(readFileSync(join(folder, 'copy.onnx')));
    const plain = (message: unknown) => JSON.parse(JSON.stringify(message));
    expect(original.configuration).toHaveLength(1);
    expect(plain(copy.configuration)).toEqual(plain(original.configuration));
    expect(plain(copy.graph!.node![0]!.device_configurations)).toEqual(plain(original.graph!.node![0]!.device_configurations));
    expect(plain(copy.graph!.node![0]!.device_configurations)[0].sharding_spec[0].sharded_dim[0].simple_sharding[0].num_shards.low).toBe(2);
    expect(copy.metadata_props ?? []).toEqual([]);
  });

  it('an annotation of a tensor the graph lacks is dangling: dropped on import, so a round trip is stable', () => {
    const bytes = modelBytes({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Relu', name: 'relu', input: ['x'], output: ['y'] }],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
        quantization_annotation: [
          { tensor_name: 'missing', quant_parameter_tensor_names: [{ key: 'SCALE_TENSOR', value: 's' }] },
          { tensor_name: 'y', quant_parameter_tensor_names: [{ key: 'SCALE_TENSOR', value: 's' }] },
        ],
      },
    });
    const model = decodeOnnx(bytes);
    expect(modelsEqual(model, decodeOnnx(encodeOnnx(model)))).toBeUndefined();
    expect(decodeModelProto(encodeOnnx(model)).graph!.quantization_annotation!.map((a) => a.tensor_name)).toEqual(['y']);
  });
});
