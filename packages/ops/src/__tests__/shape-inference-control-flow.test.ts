// inferShapes through control flow: an If whose condition is known takes its branch (types and
// values); otherwise the branch types are joined. Loop-carried values are iterated to a fixed point.
import { attrs, Graph, GraphBuilder, Tensor, tensorType, UNKNOWN_TYPE, type Type, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const i64Scalar = (value: number) => Tensor.fromValues('int64', [], [BigInt(value)]);

/** A branch graph whose single output is built by `build`. */
function branch(name: string, build: (b: GraphBuilder) => Value): Graph {
  const graph = new Graph(name);
  const b = new GraphBuilder(graph);
  b.output(build(b));
  return graph;
}

describe('inferShapes: If', () => {
  it('takes the branch a computed condition selects, with its values', () => {
    // if rank(x) == 2: unsqueeze(x, 0) else identity(x); the computed shape then feeds a Reshape.
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 4]));
    const rank = b.op1('onnx.Size', [b.op1('onnx.Shape', [x])]);
    const isMatrix = b.op1('onnx.Equal', [rank, b.constant(i64Scalar(2), 'two')]);
    const out = b.op1('onnx.If', [isMatrix], {
      then_branch: attrs.graph(branch('then', (g) => g.op1('onnx.Unsqueeze', [x, g.constant(i64([0]), 'axes')]))),
      else_branch: attrs.graph(branch('else', (g) => g.op1('onnx.Identity', [x]))),
    });
    const shapeIf = b.op1('onnx.If', [isMatrix], {
      then_branch: attrs.graph(branch('then2', (g) => g.op1('onnx.Shape', [x]))),
      else_branch: attrs.graph(branch('else2', (g) => g.constant(i64([1, 2, 3]), 'other'))),
    });
    const reshaped = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [x]), shapeIf]);
    b.output(out, reshaped);
    expect(inferShapes(b.model({ onnx: 13 })).diagnostics).toEqual([]);
    expect(out.type).toEqual(tensorType('float32', [1, 'N', 4]));
    expect(reshaped.type).toEqual(tensorType('float32', ['N', 4]));
  });

  it('joins branches when the condition is not known', () => {
    const join = (thenType: Type, elseType: Type): Type => {
      const b = new GraphBuilder();
      const cond = b.input('cond', tensorType('bool', []));
      const a = b.input('a', thenType);
      const c = b.input('c', elseType);
      const out = b.op1('onnx.If', [cond], {
        then_branch: attrs.graph(branch('then', (g) => g.op1('onnx.Identity', [a]))),
        else_branch: attrs.graph(branch('else', (g) => g.op1('onnx.Identity', [c]))),
      });
      b.output(out);
      inferShapes(b.model({ onnx: 13 }));
      return out.type;
    };
    expect(join(tensorType('float32', ['N', 3, 5]), tensorType('float32', ['N', 3, 5]))).toEqual(tensorType('float32', ['N', 3, 5]));
    expect(join(tensorType('float32', ['N', 3, 5]), tensorType('float32', ['M', null, 6]))).toEqual(tensorType('float32', [null, null, null]));
    expect(join(tensorType('float32', [1, 3]), tensorType('float32', [1, 3, 1]))).toEqual(tensorType('float32', null));
    // a branch of unknown rank may give any shape: the join is unranked (it once took the other branch's [2,3],
    // and simplify folded Shape(If) to [2,3] while the then branch ran with another shape)
    expect(join(tensorType('float32', null), tensorType('float32', [2, 3]))).toEqual(tensorType('float32', null));
    expect(join(tensorType('float32', [2, 3]), tensorType('float32', null))).toEqual(tensorType('float32', null));
    // a branch whose type inference could not tell at all: nothing is known of the join either
    expect(join(UNKNOWN_TYPE, tensorType('float32', [2, 3]))).toEqual(UNKNOWN_TYPE);
  });

  it('joins branch values element by element', () => {
    const b = new GraphBuilder();
    const cond = b.input('cond', tensorType('bool', []));
    const x = b.input('x', tensorType('float32', ['N', 7]));
    const shape = b.op1('onnx.If', [cond], {
      then_branch: attrs.graph(branch('then', (g) => g.op1('onnx.Shape', [x]))),
      else_branch: attrs.graph(branch('else', (g) => g.op1('onnx.Concat', [g.op1('onnx.Shape', [x], { end: attrs.int(1) }), g.constant(i64([8]), 'eight')], { axis: attrs.int(0) }))),
    });
    const probe = b.op1('onnx.ConstantOfShape', [shape]);
    b.output(probe);
    inferShapes(b.model({ onnx: 13 }));
    expect(probe.type).toEqual(tensorType('float32', ['N', null]));
  });
});

describe('inferShapes: Loop', () => {
  /** A loop whose body maps the carried value with `step`; returns the loop's carried output and the body's input. */
  function loop(initial: Type, step: (g: GraphBuilder, carried: Value) => Value): { final: Value; bodyInput: Value } {
    const b = new GraphBuilder();
    const trips = b.input('M', tensorType('int64', []));
    const init = b.input('init', initial);
    const body = new Graph('body');
    const g = new GraphBuilder(body);
    g.input('i', tensorType('int64', []));
    const condIn = g.input('cond_in', tensorType('bool', []));
    const carried = g.input('carried');
    g.output(g.op1('onnx.Identity', [condIn]), step(g, carried));
    const [final] = b.op('onnx.Loop', [trips, null, init], { body: attrs.graph(body) }, { outputs: ['final'] });
    b.output(final!);
    expect(inferShapes(b.model({ onnx: 13 })).diagnostics).toEqual([]);
    return { final: final!, bodyInput: carried };
  }

  it('keeps exact shapes of carried values the body does not change', () => {
    const { final, bodyInput } = loop(tensorType('float32', ['N', 3]), (g, c) => g.op1('onnx.Relu', [c]));
    expect(bodyInput.type).toEqual(tensorType('float32', ['N', 3]));
    expect(final.type).toEqual(tensorType('float32', ['N', 3]));
  });

  it('generalizes a carried dim that grows each iteration, and re-infers the body with it', () => {
    const { final, bodyInput } = loop(tensorType('float32', [2, 3]), (g, c) => g.op1('onnx.Concat', [c, c], { axis: attrs.int(1) }));
    expect(bodyInput.type).toEqual(tensorType('float32', [2, null]));
    expect(final.type).toEqual(tensorType('float32', [2, null]));
  });

  it('gives up on the rank only when the body changes it', () => {
    const { final } = loop(tensorType('float32', [2]), (g, c) => g.op1('onnx.Unsqueeze', [c, g.constant(i64([0]), 'axes')]));
    expect(final.type).toEqual(tensorType('float32', null));
  });
});

describe('inferShapes: Scan', () => {
  it('seeds the body with the states and the scanned slices, and iterates the states', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['B', 10, 4]));
    const init = b.input('init', tensorType('float32', ['B', 4]));
    const grows = b.input('grows', tensorType('float32', [1]));
    const body = new Graph('body');
    const g = new GraphBuilder(body);
    const state = g.input('state');
    const grown = g.input('grown');
    const slice = g.input('slice');
    const next = g.op1('onnx.Add', [state, slice]);
    const longer = g.op1('onnx.Concat', [grown, g.constant(Tensor.fromValues('float32', [1], [0]), 'zero')], { axis: attrs.int(0) });
    g.output(next, longer, g.op1('onnx.Relu', [slice]));
    const [final, finalGrown, scanned] = b.op('onnx.Scan', [init, grows, x], { body: attrs.graph(body), num_scan_inputs: attrs.int(1), scan_input_axes: attrs.ints([1]) }, { outputs: 3 });
    b.output(final!, finalGrown!, scanned!);
    expect(inferShapes(b.model({ onnx: 16 })).diagnostics).toEqual([]);
    expect(slice.type).toEqual(tensorType('float32', ['B', 4]));
    expect(final!.type).toEqual(tensorType('float32', ['B', 4]));
    expect(grown.type).toEqual(tensorType('float32', [null]));
    expect(finalGrown!.type).toEqual(tensorType('float32', [null]));
    expect(scanned!.type).toEqual(tensorType('float32', [10, 'B', 4]));
  });
});
