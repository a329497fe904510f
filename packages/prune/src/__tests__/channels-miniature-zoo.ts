/**
 * Miniature versions of torchvision's families, built in code (Debian's torch is not installed on
 * this machine, so the real exports cannot be made): a ResNet (basic blocks, downsample shortcut),
 * MobileNetV2 (inverted residuals with depthwise convs), MobileNetV3 / EfficientNet (inverted
 * residuals with Squeeze-Excitation and HardSwish), ShuffleNetV2 (channel split, branch, Concat,
 * channel shuffle) and RegNetY (grouped convs with SE). Input [1, 3, 32, 32], 10 classes, seeded
 * weights. Not a test file.
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { Random } from './channels-random-graphs.js';

class Net {
  private readonly g = new GraphBuilder();
  private count = 0;
  constructor(private readonly random: Random) {}

  private name(base: string): string {
    return `${base}_${this.count++}`;
  }
  private weights(shape: number[], scale: number): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.g.constant(Tensor.fromValues('float32', shape, Array.from({ length: size }, () => (this.random.next() * 2 - 1) * scale)), this.name('w'));
  }
  private vector(count: number, lo: number, hi: number): Value {
    return this.g.constant(Tensor.fromValues('float32', [count], Array.from({ length: count }, () => lo + this.random.next() * (hi - lo))), this.name('p'));
  }
  input(): Value {
    return this.g.input('image', tensorType('float32', [1, 3, 32, 32]));
  }
  conv(x: Value, cin: number, cout: number, kernel: number, options: { stride?: number; group?: number } = {}): Value {
    const group = options.group ?? 1;
    const stride = options.stride ?? 1;
    const pad = (kernel - 1) / 2;
    const w = this.weights([cout, cin / group, kernel, kernel], Math.sqrt(3 / ((cin / group) * kernel * kernel)));
    return this.g.op1('onnx.Conv', [x, w], { kernel_shape: attrs.ints([kernel, kernel]), pads: attrs.ints([pad, pad, pad, pad]), strides: attrs.ints([stride, stride]), group: attrs.int(group) }, { name: this.name('conv') });
  }
  bn(x: Value, c: number): Value {
    return this.g.op1('onnx.BatchNormalization', [x, this.vector(c, 0.5, 1.5), this.vector(c, -0.1, 0.1), this.vector(c, -0.1, 0.1), this.vector(c, 0.5, 1.5)], {}, { name: this.name('bn') });
  }
  act(x: Value, kind: 'Relu' | 'HardSwish' | 'Clip' = 'Relu'): Value {
    if (kind === 'Clip') return this.g.op1('onnx.Clip', [x, this.g.constant(Tensor.scalar('float32', 0), this.name('lo')), this.g.constant(Tensor.scalar('float32', 6), this.name('hi'))], {}, { name: this.name('relu6') });
    return this.g.op1(`onnx.${kind}`, [x], {}, { name: this.name(kind.toLowerCase()) });
  }
  cbr(x: Value, cin: number, cout: number, kernel: number, options: { stride?: number; group?: number; act?: 'Relu' | 'HardSwish' | 'Clip' | 'none' } = {}): Value {
    const y = this.bn(this.conv(x, cin, cout, kernel, options), cout);
    return options.act === 'none' ? y : this.act(y, options.act ?? 'Relu');
  }
  add(a: Value, b: Value): Value {
    return this.g.op1('onnx.Add', [a, b], {}, { name: this.name('add') });
  }
  se(x: Value, c: number, reduced: number): Value {
    const pooled = this.g.op1('onnx.GlobalAveragePool', [x], {}, { name: this.name('se_pool') });
    const r = this.g.op1('onnx.Relu', [this.conv(pooled, c, reduced, 1)], {}, { name: this.name('se_relu') });
    const gate = this.g.op1('onnx.HardSigmoid', [this.conv(r, reduced, c, 1)], {}, { name: this.name('se_gate') });
    return this.g.op1('onnx.Mul', [x, gate], {}, { name: this.name('se_scale') });
  }
  shuffle(x: Value, c: number, size: number): Value {
    const shape = (values: number[]): Value => this.g.constant(Tensor.fromValues('int64', [values.length], values.map(BigInt)), this.name('shape'));
    const grouped = this.g.op1('onnx.Reshape', [x, shape([1, 2, c / 2, size, size])], {}, { name: this.name('shuffle_view') });
    const swapped = this.g.op1('onnx.Transpose', [grouped], { perm: attrs.ints([0, 2, 1, 3, 4]) }, { name: this.name('shuffle_swap') });
    return this.g.op1('onnx.Reshape', [swapped, shape([1, c, size, size])], {}, { name: this.name('shuffle_join') });
  }
  split(x: Value, sizes: number[]): Value[] {
    return this.g.op('onnx.Split', [x, this.g.constant(Tensor.fromValues('int64', [sizes.length], sizes.map(BigInt)), this.name('sizes'))], { axis: attrs.int(1) }, { name: this.name('split'), outputs: sizes.length });
  }
  concat(values: Value[]): Value {
    return this.g.op1('onnx.Concat', values, { axis: attrs.int(1) }, { name: this.name('concat') });
  }
  head(x: Value, c: number): Model {
    const pooled = this.g.op1('onnx.GlobalAveragePool', [x], {}, { name: 'avgpool' });
    const flat = this.g.op1('onnx.Flatten', [pooled], {}, { name: 'flatten' });
    const logits = this.g.op1('onnx.Gemm', [flat, this.weights([10, c], 1 / Math.sqrt(c)), this.vector(10, -0.1, 0.1)], { transB: attrs.int(1) }, { name: 'fc', outputs: ['logits'] });
    this.g.output(logits);
    return this.g.model({ onnx: 17 });
  }
}

function resnet(random: Random): Model {
  const n = new Net(random);
  let x = n.cbr(n.input(), 3, 16, 3);
  const basic = (input: Value, cin: number, cout: number, stride: number): Value => {
    const y = n.cbr(n.cbr(input, cin, cout, 3, { stride }), cout, cout, 3, { act: 'none' });
    const shortcut = stride === 1 && cin === cout ? input : n.cbr(input, cin, cout, 1, { stride, act: 'none' });
    return n.act(n.add(y, shortcut));
  };
  x = basic(basic(x, 16, 16, 1), 16, 16, 1);
  x = basic(basic(x, 16, 32, 2), 32, 32, 1);
  x = basic(basic(x, 32, 64, 2), 64, 64, 1);
  return n.head(x, 64);
}

function invertedResidual(n: Net, x: Value, cin: number, cout: number, stride: number, expand: number, options: { se?: boolean; act?: 'Clip' | 'HardSwish' } = {}): Value {
  const hidden = cin * expand;
  const act = options.act ?? 'Clip';
  let y = n.cbr(x, cin, hidden, 1, { act });
  y = n.cbr(y, hidden, hidden, 3, { stride, group: hidden, act });
  if (options.se) y = n.se(y, hidden, Math.max(2, hidden / 4));
  y = n.cbr(y, hidden, cout, 1, { act: 'none' });
  return stride === 1 && cin === cout ? n.add(x, y) : y;
}

function mobilenetV2(random: Random): Model {
  const n = new Net(random);
  let x = n.cbr(n.input(), 3, 16, 3, { stride: 2, act: 'Clip' });
  x = invertedResidual(n, x, 16, 16, 1, 1);
  x = invertedResidual(n, x, 16, 24, 2, 4);
  x = invertedResidual(n, x, 24, 24, 1, 4);
  x = invertedResidual(n, x, 24, 32, 2, 4);
  x = invertedResidual(n, x, 32, 32, 1, 4);
  x = n.cbr(x, 32, 128, 1, { act: 'Clip' });
  return n.head(x, 128);
}

function mobilenetV3(random: Random): Model {
  const n = new Net(random);
  let x = n.cbr(n.input(), 3, 16, 3, { stride: 2, act: 'HardSwish' });
  x = invertedResidual(n, x, 16, 16, 1, 1, { se: true, act: 'Clip' });
  x = invertedResidual(n, x, 16, 24, 2, 4, { act: 'Clip' });
  x = invertedResidual(n, x, 24, 24, 1, 3, { se: true, act: 'HardSwish' });
  x = invertedResidual(n, x, 24, 40, 2, 4, { se: true, act: 'HardSwish' });
  x = invertedResidual(n, x, 40, 40, 1, 3, { se: true, act: 'HardSwish' });
  x = n.cbr(x, 40, 160, 1, { act: 'HardSwish' });
  return n.head(x, 160);
}

function shufflenetV2(random: Random): Model {
  const n = new Net(random);
  let x = n.cbr(n.input(), 3, 24, 3, { stride: 2 });
  let size = 16;
  const unit = (input: Value, c: number): Value => {
    const [keep, branch] = n.split(input, [c / 2, c / 2]) as [Value, Value];
    let y = n.cbr(branch, c / 2, c / 2, 1);
    y = n.cbr(y, c / 2, c / 2, 3, { group: c / 2, act: 'none' });
    y = n.cbr(y, c / 2, c / 2, 1);
    return n.shuffle(n.concat([keep, y]), c, size);
  };
  const down = (input: Value, cin: number, cout: number): Value => {
    const left = n.cbr(n.cbr(input, cin, cin, 3, { stride: 2, group: cin, act: 'none' }), cin, cout / 2, 1);
    let right = n.cbr(input, cin, cout / 2, 1);
    right = n.cbr(right, cout / 2, cout / 2, 3, { stride: 2, group: cout / 2, act: 'none' });
    right = n.cbr(right, cout / 2, cout / 2, 1);
    size /= 2;
    return n.shuffle(n.concat([left, right]), cout, size);
  };
  x = unit(down(x, 24, 48), 48);
  x = unit(down(x, 48, 96), 96);
  x = n.cbr(x, 96, 256, 1);
  return n.head(x, 256);
}

function regnetY(random: Random): Model {
  const n = new Net(random);
  let x = n.cbr(n.input(), 3, 16, 3, { stride: 2 });
  const block = (input: Value, cin: number, cout: number, stride: number): Value => {
    const groups = cout / 8;
    let y = n.cbr(input, cin, cout, 1);
    y = n.cbr(y, cout, cout, 3, { stride, group: groups });
    y = n.se(y, cout, Math.max(2, cin / 4));
    y = n.cbr(y, cout, cout, 1, { act: 'none' });
    const shortcut = stride === 1 && cin === cout ? input : n.cbr(input, cin, cout, 1, { stride, act: 'none' });
    return n.act(n.add(y, shortcut));
  };
  x = block(block(x, 16, 32, 2), 32, 32, 1);
  x = block(block(x, 32, 64, 2), 64, 64, 1);
  return n.head(x, 64);
}

export const MINIATURE_ZOO: readonly { readonly name: string; readonly build: (random: Random) => Model }[] = [
  { name: 'resnet', build: resnet },
  { name: 'mobilenet_v2', build: mobilenetV2 },
  { name: 'mobilenet_v3', build: mobilenetV3 },
  { name: 'shufflenet_v2', build: shufflenetV2 },
  { name: 'regnet_y', build: regnetY },
];
