/**
 * Random CNN-shaped graphs for the channel-pruning property tests (not a test file): a trunk of
 * blocks drawn from a seeded generator — plain Conv (+BN, +activation), ConvTranspose, residual Add, Concat of two
 * branches, depthwise and grouped Convs, Squeeze-Excitation, Split → convs → Concat, Slice on
 * channels, MaxPool, a channel shuffle (which must be refused) — and a head (GAP → Flatten → Gemm,
 * Flatten → Gemm → Relu → MatMul, or a Conv output).
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export const BLOCKS = ['conv', 'residual', 'concat', 'depthwise', 'grouped', 'se', 'se-fc', 'split', 'slice', 'pool', 'shuffle', 'deconv'] as const;
export type BlockKind = (typeof BLOCKS)[number];

interface Trunk {
  value: Value;
  channels: number;
  size: number;
}

export class RandomCnn {
  private readonly g = new GraphBuilder();
  private count = 0;
  readonly blocks: BlockKind[] = [];

  constructor(private readonly random: Random) {}

  private name(base: string): string {
    return `${base}${this.count++}`;
  }

  private tensor(shape: number[], scale: number): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.g.constant(Tensor.fromValues('float32', shape, Array.from({ length: size }, () => (this.random.next() * 2 - 1) * scale)), this.name('w'));
  }

  private positive(count: number, lo: number, hi: number): Value {
    return this.g.constant(Tensor.fromValues('float32', [count], Array.from({ length: count }, () => lo + this.random.next() * (hi - lo))), this.name('p'));
  }

  conv(x: Value, inChannels: number, outChannels: number, options: { kernel?: number; group?: number; bias?: boolean } = {}): Value {
    const kernel = options.kernel ?? this.random.pick([1, 3]);
    const group = options.group ?? 1;
    const weight = this.tensor([outChannels, inChannels / group, kernel, kernel], 1 / Math.sqrt((inChannels / group) * kernel * kernel));
    const bias = options.bias ?? this.random.next() < 0.7 ? this.tensor([outChannels], 0.1) : null;
    const pad = (kernel - 1) / 2;
    return this.g.op1('onnx.Conv', bias ? [x, weight, bias] : [x, weight], { kernel_shape: attrs.ints([kernel, kernel]), pads: attrs.ints([pad, pad, pad, pad]), group: attrs.int(group) }, { name: this.name('conv') });
  }

  private batchNorm(x: Value, channels: number): Value {
    return this.g.op1('onnx.BatchNormalization', [x, this.positive(channels, 0.5, 1.5), this.tensor([channels], 0.2), this.tensor([channels], 0.2), this.positive(channels, 0.5, 2)], {}, { name: this.name('bn') });
  }

  private activation(x: Value): Value {
    const kind = this.random.pick(['Relu', 'Sigmoid', 'HardSwish', 'Clip', 'LeakyRelu', 'none']);
    if (kind === 'none') return x;
    if (kind === 'Clip') return this.g.op1('onnx.Clip', [x, this.g.constant(Tensor.scalar('float32', 0), this.name('lo')), this.g.constant(Tensor.scalar('float32', 6), this.name('hi'))], {}, { name: this.name('clip') });
    return this.g.op1(`onnx.${kind}`, [x], {}, { name: this.name(kind.toLowerCase()) });
  }

  private convBlock(t: Trunk, out: number): Trunk {
    let y = this.conv(t.value, t.channels, out);
    if (this.random.next() < 0.6) y = this.batchNorm(y, out);
    return { value: this.activation(y), channels: out, size: t.size };
  }

  private block(kind: BlockKind, t: Trunk): Trunk {
    const even = (n: number): number => n + (n % 2);
    switch (kind) {
      case 'conv':
        return this.convBlock(t, this.random.int(2, 8));
      case 'residual': {
        const branch = this.convBlock(t, t.channels);
        const sum = this.g.op1(this.random.pick(['onnx.Add', 'onnx.Add', 'onnx.Sub']), [t.value, branch.value], {}, { name: this.name('add') });
        return { value: sum, channels: t.channels, size: t.size };
      }
      case 'concat': {
        const a = this.convBlock(t, this.random.int(2, 5));
        const b = this.random.next() < 0.5 ? t : this.convBlock(t, this.random.int(2, 5));
        const joined = this.g.op1('onnx.Concat', [a.value, b.value], { axis: attrs.int(1) }, { name: this.name('concat') });
        return { value: joined, channels: a.channels + b.channels, size: t.size };
      }
      case 'depthwise': {
        const multiplier = this.random.pick([1, 1, 2]);
        const y = this.conv(t.value, t.channels, t.channels * multiplier, { kernel: 3, group: t.channels });
        return { value: this.activation(y), channels: t.channels * multiplier, size: t.size };
      }
      case 'grouped': {
        const start = t.channels % 2 === 0 ? t : this.convBlock(t, even(t.channels));
        const out = even(this.random.int(2, 8));
        return { value: this.activation(this.conv(start.value, start.channels, out, { group: 2 })), channels: out, size: t.size };
      }
      case 'se': {
        const reduced = this.random.int(1, 3);
        const pooled = this.g.op1('onnx.GlobalAveragePool', [t.value], {}, { name: this.name('gap') });
        const squeeze = this.g.op1('onnx.Relu', [this.conv(pooled, t.channels, reduced, { kernel: 1, bias: true })], {}, { name: this.name('relu') });
        const gate = this.g.op1(this.random.pick(['onnx.Sigmoid', 'onnx.HardSigmoid']), [this.conv(squeeze, reduced, t.channels, { kernel: 1, bias: true })], {}, { name: this.name('gate') });
        return { value: this.g.op1('onnx.Mul', [t.value, gate], {}, { name: this.name('scale') }), channels: t.channels, size: t.size };
      }
      case 'se-fc': {
        // Squeeze-Excitation with fully connected layers: GAP → Flatten → Gemm → Relu → Gemm → gate → back to [N, C, 1, 1] → Mul.
        const reduced = this.random.int(1, 3);
        const pooled = this.g.op1('onnx.GlobalAveragePool', [t.value], {}, { name: this.name('gap') });
        const flat = this.g.op1('onnx.Flatten', [pooled], {}, { name: this.name('flatten') });
        const fc1 = this.g.op1('onnx.Relu', [this.g.op1('onnx.Gemm', [flat, this.tensor([reduced, t.channels], 0.5), this.tensor([reduced], 0.1)], { transB: attrs.int(1) }, { name: this.name('fc') })], {}, { name: this.name('relu') });
        const fc2 = this.g.op1('onnx.Gemm', [fc1, this.tensor([reduced, t.channels], 0.5), this.tensor([t.channels], 0.1)], {}, { name: this.name('fc') });
        const gate = this.g.op1('onnx.HardSigmoid', [fc2], {}, { name: this.name('gate') });
        const shaped = this.random.next() < 0.5
          ? this.g.op1('onnx.Reshape', [gate, this.ints([1, t.channels, 1, 1])], {}, { name: this.name('reshape') })
          : this.g.op1('onnx.Unsqueeze', [gate, this.ints([2, 3])], {}, { name: this.name('unsqueeze') });
        return { value: this.g.op1('onnx.Mul', [shaped, t.value], {}, { name: this.name('scale') }), channels: t.channels, size: t.size };
      }
      case 'deconv': {
        const out = this.random.int(2, 6);
        const weight = this.tensor([t.channels, out, 3, 3], 1 / Math.sqrt(t.channels * 9));
        const bias = this.random.next() < 0.5 ? this.tensor([out], 0.1) : null;
        const y = this.g.op1('onnx.ConvTranspose', bias ? [t.value, weight, bias] : [t.value, weight], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: this.name('deconv') });
        return { value: this.activation(y), channels: out, size: t.size };
      }
      case 'split': {
        const start = t.channels >= 2 ? t : this.convBlock(t, 4);
        const first = this.random.int(1, start.channels - 1);
        const [a, b] = this.g.op('onnx.Split', [start.value, this.g.constant(Tensor.fromValues('int64', [2], [BigInt(first), BigInt(start.channels - first)]), this.name('sizes'))], { axis: attrs.int(1) }, { name: this.name('split'), outputs: 2 });
        const ca = this.random.int(2, 5);
        const cb = this.random.int(2, 5);
        const joined = this.g.op1('onnx.Concat', [this.conv(a!, first, ca), this.conv(b!, start.channels - first, cb)], { axis: attrs.int(1) }, { name: this.name('concat') });
        return { value: joined, channels: ca + cb, size: t.size };
      }
      case 'slice': {
        const start = t.channels >= 3 ? t : this.convBlock(t, 5);
        const from = this.random.int(0, 1);
        const to = this.random.int(from + 2, start.channels);
        const sliced = this.g.op1('onnx.Slice', [start.value, this.ints([from]), this.ints([to]), this.ints([1])], {}, { name: this.name('slice') });
        return { value: sliced, channels: to - from, size: t.size };
      }
      case 'pool':
        if (t.size < 4) return t;
        return { value: this.g.op1('onnx.MaxPool', [t.value], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: this.name('pool') }), channels: t.channels, size: t.size / 2 };
      case 'shuffle': {
        const start = t.channels % 2 === 0 ? t : this.convBlock(t, even(t.channels));
        const c = start.channels;
        const grouped = this.g.op1('onnx.Reshape', [start.value, this.ints([1, 2, c / 2, t.size, t.size])], {}, { name: this.name('reshape') });
        const swapped = this.g.op1('onnx.Transpose', [grouped], { perm: attrs.ints([0, 2, 1, 3, 4]) }, { name: this.name('transpose') });
        return { value: this.g.op1('onnx.Reshape', [swapped, this.ints([1, c, t.size, t.size])], {}, { name: this.name('reshape') }), channels: c, size: t.size };
      }
    }
  }

  private ints(values: number[]): Value {
    return this.g.constant(Tensor.fromValues('int64', [values.length], values.map(BigInt)), this.name('i'));
  }

  build(blockCount: number): Model {
    const x = this.g.input('x', tensorType('float32', [1, 3, 8, 8]));
    let t: Trunk = this.convBlock({ value: x, channels: 3, size: 8 }, this.random.int(3, 8));
    for (let i = 0; i < blockCount; i++) {
      const kind = this.random.pick(BLOCKS);
      this.blocks.push(kind);
      t = this.block(kind, t);
    }
    const head = this.random.pick(['gap-gemm', 'flatten-gemm-matmul', 'conv']);
    let out: Value;
    if (head === 'gap-gemm') {
      const pooled = this.g.op1('onnx.GlobalAveragePool', [t.value], {}, { name: this.name('gap') });
      const flat = this.g.op1('onnx.Flatten', [pooled], {}, { name: this.name('flatten') });
      out = this.g.op1('onnx.Gemm', [flat, this.tensor([5, t.channels], 0.5), this.tensor([5], 0.1)], { transB: attrs.int(1) }, { name: this.name('fc') });
    } else if (head === 'flatten-gemm-matmul') {
      const flat = this.g.op1('onnx.Flatten', [t.value], {}, { name: this.name('flatten') });
      const features = t.channels * t.size * t.size;
      const hidden = this.random.int(3, 8);
      const fc = this.g.op1('onnx.Relu', [this.g.op1('onnx.Gemm', [flat, this.tensor([features, hidden], 1 / Math.sqrt(features)), this.tensor([hidden], 0.1)], {}, { name: this.name('fc') })], {}, { name: this.name('relu') });
      out = this.g.op1('onnx.MatMul', [fc, this.tensor([hidden, 4], 0.5)], {}, { name: this.name('matmul') });
    } else out = this.conv(t.value, t.channels, 3);
    this.g.output(out);
    return this.g.model({ onnx: 17 });
  }
}
