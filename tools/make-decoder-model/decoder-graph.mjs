// A synthetic decoder-only transformer (GPT/Llama-shaped, no rotary embedding) as a modelpass IR
// model whose weights are computed on demand: seeded uniform values from a counter-based hash of
// (seed, tensor, element), so any chunk can be produced alone and the ONNX writer streams every
// weight to external data without holding it. Graph (opset 17):
//   input_ids int64 [batch, sequence] → Gather(embedding)
//   per layer: LayerNorm → q,k,v MatMul → heads → causal softmax attention → MatMul(o) → residual
//              LayerNorm → MatMul(gate), MatMul(up) → SiLU(gate)·up → MatMul(down) → residual
//   → LayerNorm → MatMul(lm_head) → logits float32 [batch, sequence, vocabulary]
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';

export const DECODER_SIZES = {
  // ~10.2 M parameters: tests
  small: { vocabulary: 4096, hidden: 384, intermediate: 1024, layers: 4, heads: 6 },
  // ~1.0 B parameters: the weight-quantization benchmark
  '1b': { vocabulary: 32000, hidden: 2048, intermediate: 5632, layers: 17, heads: 16 },
};

export function parameterCount(config) {
  const { vocabulary: v, hidden: d, intermediate: f, layers } = config;
  return 2 * v * d + layers * (4 * d * d + 3 * d * f + 4 * d) + 2 * d;
}

/** A 32-bit hash of (seed, stream, index): splitmix-style mixing, deterministic per element. */
function hash(seed, stream, index) {
  let x = (Math.imul(index, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b) ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Storage that computes its bytes on every read and keeps none (ComputedStorage caches what
 * `read()` made, which would hold every weight the writer reads whole).
 */
class GeneratedStorage {
  kind = 'computed';
  constructor(byteLength, fill, label) {
    this.byteLength = byteLength;
    this.fill = fill;
    this.label = label;
  }
  read() {
    const bytes = new Uint8Array(this.byteLength);
    this.fill(bytes, 0);
    return bytes;
  }
  readChunk(target, start) {
    this.fill(target, start);
  }
  describe() {
    return `${this.label}(${this.byteLength} bytes)`;
  }
}

/** float32 tensor of `shape` with values uniform in [-bound, bound), produced chunk by chunk. */
function randomWeight(shape, bound, seed, stream) {
  const count = shape.reduce((a, b) => a * b, 1);
  const fill = (target, start) => {
    const floats = new Float32Array(target.buffer, target.byteOffset, target.byteLength / 4);
    const first = start / 4;
    const scale = (2 * bound) / 2 ** 32;
    for (let i = 0; i < floats.length; i++) floats[i] = hash(seed, stream, first + i) * scale - bound;
  };
  return Tensor.fromStorage('float32', shape, new GeneratedStorage(count * 4, fill, `random-weight-${stream}`));
}

function filled(shape, value) {
  return Tensor.fromValues('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(value));
}

const int64 = (values) => Tensor.fromValues('int64', [values.length], values);

export function makeDecoderModel(config, seed = 1) {
  const { vocabulary, hidden, intermediate, layers, heads } = config;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not a multiple of heads ${heads}`);
  const headSize = hidden / heads;
  const b = new GraphBuilder();
  let stream = 0;
  const weight = (name, shape, fanIn) => b.constant(randomWeight(shape, Math.sqrt(3 / fanIn), seed, stream++), name);
  const ids = b.input('input_ids', tensorType('int64', ['batch', 'sequence']));

  // causal mask [sequence, sequence]: 0 on and below the diagonal, -1e4 above
  const idsShape = b.op1('onnx.Shape', [ids]);
  const sequence = b.op1('onnx.Slice', [idsShape, b.constant(int64([1]), 'one'), b.constant(int64([2]), 'two')]);
  const square = b.op1('onnx.Concat', [sequence, sequence], { axis: attrs.int(0) });
  const negative = b.op1('onnx.ConstantOfShape', [square], { value: attrs.tensor(Tensor.fromValues('float32', [1], [-1e4])) });
  const mask = b.op1('onnx.Trilu', [negative, b.constant(Tensor.scalar('int64', 1), 'diagonal_offset')], { upper: attrs.int(1) });

  const splitHeads = b.constant(int64([0, 0, heads, headSize]), 'split_heads_shape');
  const mergeHeads = b.constant(int64([0, 0, hidden]), 'merge_heads_shape');
  const scale = b.constant(Tensor.scalar('float32', 1 / Math.sqrt(headSize)), 'attention_scale');
  const norm = (x, name) => b.op1('onnx.LayerNormalization', [x, b.constant(filled([hidden], 1), `${name}.weight`), b.constant(filled([hidden], 0), `${name}.bias`)], { axis: attrs.int(-1), epsilon: attrs.float(1e-5) });
  const linear = (x, name, k, n) => b.op1('onnx.MatMul', [x, weight(`${name}.weight`, [k, n], k)], {}, { name });

  let h = b.op1('onnx.Gather', [weight('embed_tokens.weight', [vocabulary, hidden], 1), ids], { axis: attrs.int(0) });
  for (let layer = 0; layer < layers; layer++) {
    const p = `layers.${layer}`;
    const x = norm(h, `${p}.input_norm`);
    const heads4 = (name, perm) => b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [linear(x, `${p}.attn.${name}`, hidden, hidden), splitHeads])], { perm: attrs.ints(perm) });
    const q = heads4('q_proj', [0, 2, 1, 3]);
    const k = heads4('k_proj', [0, 2, 3, 1]);
    const v = heads4('v_proj', [0, 2, 1, 3]);
    const scores = b.op1('onnx.Add', [b.op1('onnx.Mul', [b.op1('onnx.MatMul', [q, k]), scale]), mask]);
    const context = b.op1('onnx.MatMul', [b.op1('onnx.Softmax', [scores], { axis: attrs.int(-1) }), v]);
    const merged = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [context], { perm: attrs.ints([0, 2, 1, 3]) }), mergeHeads]);
    h = b.op1('onnx.Add', [h, linear(merged, `${p}.attn.o_proj`, hidden, hidden)]);
    const y = norm(h, `${p}.post_attention_norm`);
    const gate = linear(y, `${p}.mlp.gate_proj`, hidden, intermediate);
    const up = linear(y, `${p}.mlp.up_proj`, hidden, intermediate);
    const activated = b.op1('onnx.Mul', [b.op1('onnx.Mul', [gate, b.op1('onnx.Sigmoid', [gate])]), up]);
    h = b.op1('onnx.Add', [h, linear(activated, `${p}.mlp.down_proj`, intermediate, hidden)]);
  }
  const logits = b.op1('onnx.MatMul', [norm(h, 'final_norm'), weight('lm_head.weight', [hidden, vocabulary], hidden)], {}, { name: 'lm_head', outputs: ['logits'] });
  logits.type = tensorType('float32', ['batch', 'sequence', vocabulary]);
  b.output(logits);
  const model = b.model({ onnx: 17 });
  model.producerName = 'modelpass tools/make-decoder-model';
  return model;
}
