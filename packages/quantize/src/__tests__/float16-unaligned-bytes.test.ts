/**
 * convert-float16 on float32 constants whose bytes are a Node Buffer at an offset that is not a
 * multiple of 4 — how protobufjs hands out raw_data, so where it lands depends on the bytes before
 * it (fuzz seed 1811 case 90, a mutated model: RangeError 'byte length of Float32Array should be a
 * multiple of 4'). The unaligned path copied with `bytes.slice()`, which for a Buffer is a view of
 * the same memory: it read the whole underlying pool — a RangeError, or, when the pool's length is
 * a multiple of 4, the pool's first values instead of the tensor's.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { runPipeline } from './weights-helpers.js';

const VALUES = [1.5, -2, 0.25];

/** VALUES as float32 bytes inside a Buffer of `poolBytes`, starting at byte 1 (unaligned); the rest of the pool is 7.0. */
function unalignedFloats(poolBytes: number): Buffer {
  const pool = Buffer.alloc(poolBytes);
  for (let at = 0; at + 4 <= poolBytes; at += 4) pool.writeFloatLE(7, at);
  VALUES.forEach((value, i) => pool.writeFloatLE(value, 1 + 4 * i));
  return pool.subarray(1, 1 + 4 * VALUES.length);
}

/** x [3] + Constant(value) + initializer c, both float32 with unaligned Buffer bytes. */
function model(poolBytes: number): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [3]));
  const c = b.constant(Tensor.fromBytes('float32', [3], unalignedFloats(poolBytes)), 'c');
  const k = b.op1('onnx.Constant', [], { value: { kind: 'tensor', value: Tensor.fromBytes('float32', [3], unalignedFloats(poolBytes)) } }, { name: 'k', outputs: ['k'] });
  const sum = b.op1('onnx.Add', [x, c], {}, { name: 'add', outputs: ['sum'] });
  b.output(b.op1('onnx.Mul', [sum, k], {}, { name: 'mul', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('convert-float16: float32 bytes at an unaligned Buffer offset', () => {
  it.each([8191, 8192])('keeps the tensor values (pool of %i bytes)', async (poolBytes) => {
    const m = model(poolBytes);
    await runPipeline(m, 'convert-float16');
    const k = [...m.graph.nodesOf('onnx.Constant')][0]!.getAttribute('value');
    expect(k?.kind === 'tensor' && k.value.dtype).toBe('float16');
    expect(k?.kind === 'tensor' && k.value.toNumbers()).toEqual(VALUES);
    const c = m.graph.constants.find((v) => v.name === 'c' || v.name.startsWith('c'))!;
    expect(c.constant!.dtype).toBe('float16');
    expect(c.constant!.toNumbers()).toEqual(VALUES);
  });
});
