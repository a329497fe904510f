// TFLite 2.9 latency of the two forms legalize-tflite gives an If with a run-time condition and
// branches of one shape: both branches computed and selected (SELECT_V2), or a TFLite IF that runs
// the taken branch. Per branch size n (elementwise nodes per branch, on a [1,16,32,32] tensor), each
// form is converted by legalize-tflite and run interleaved; the table gives the minimum and median
// per form and their ratio. The IF form is forced by a GATHER at a run-time index in each branch
// (a branch that may fail when not taken runs only when taken), the SELECT form by writing both
// branches and a Where in the ONNX graph. Usage: node tools/bench/tflite/control-flow.mjs [runs]
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { attrs, Graph, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { TfliteEngine } from '@modelpass/runtime';
import { legalizeTflite, registerTfliteDialect } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';

const RUNS = Number(process.argv[2] ?? 200);
const SHAPE = [1, 16, 32, 32];

/** n elementwise nodes on x: alternating Mul by a constant, Add of a constant and Tanh. */
function chain(b, x, n, seed) {
  let value = x;
  for (let k = 0; k < n; k++) {
    if (k % 3 === 0) value = b.op1('onnx.Mul', [value, b.constant(Tensor.scalar('float32', 0.9 + 0.01 * (k + seed)))]);
    else if (k % 3 === 1) value = b.op1('onnx.Add', [value, b.constant(Tensor.scalar('float32', 0.05 * seed))]);
    else value = b.op1('onnx.Tanh', [value]);
  }
  return value;
}

function model(n, form) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const flag = b.input('flag', tensorType('bool', []));
  const picks = b.input('pick', tensorType('int64', []));
  let y;
  if (form === 'select') {
    const a = chain(b, x, n, 1);
    const c = chain(b, x, n, 2);
    const one = b.op1('onnx.Gather', [b.constant(Tensor.fromValues('float32', [2], [1, 1])), picks], { axis: attrs.int(0) });
    y = b.op1('onnx.Mul', [b.op1('onnx.Where', [flag, a, c]), one]);
  } else {
    const branch = (name, seed) => {
      const inner = new GraphBuilder(new Graph(name));
      const one = inner.op1('onnx.Gather', [inner.constant(Tensor.fromValues('float32', [2], [1, 1])), picks], { axis: attrs.int(0) }, { outputs: [`${name}_one`] });
      inner.output(inner.op1('onnx.Mul', [chain(inner, x, n, seed), one], {}, { outputs: [`${name}_out`] }));
      return inner.graph;
    };
    [y] = b.op('onnx.If', [flag], { then_branch: attrs.graph(branch('then', 1)), else_branch: attrs.graph(branch('else', 2)) }, { outputs: 1 });
  }
  b.output(y);
  const built = b.model({ onnx: 17 });
  inferShapes(built, { mode: 'refresh' });
  return built;
}

const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
environment.passes.register(transformPasses, '@modelpass/transforms');
environment.passes.register([legalizeTflite], '@modelpass/tflite');
const engine = new TfliteEngine();

const x = Tensor.fromValues('float32', SHAPE, Array.from({ length: SHAPE.reduce((a, d) => a * d, 1) }, (_, i) => Math.sin(i)));
const feeds = (flag) => ({ x, flag: Tensor.fromValues('bool', [], [flag]), pick: Tensor.fromValues('int64', [], [0n]) });
const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
};

console.log(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}; ${RUNS} runs per form, interleaved; x ${SHAPE.join('x')} float32`);
console.log('| nodes per branch | SELECT_V2 min / median (ms) | IF min / median (ms) | IF / SELECT (min) | ops (select / if main graph) |');
console.log('|---|---|---|---|---|');
for (const n of [1, 2, 4, 8, 16, 32]) {
  const converted = {};
  for (const form of ['select', 'if']) {
    const m = model(n, form);
    await new PassManager({ environment }).run(m, 'legalize-tflite');
    const ops = m.graph.nodeList().map((node) => node.op);
    if (form === 'if' && !ops.includes('tflite.IF')) throw new Error('the IF form did not give a TFLite IF');
    if (form === 'select' && !ops.includes('tflite.SELECT_V2')) throw new Error('the SELECT form did not give SELECT_V2');
    converted[form] = { model: m, ops: ops.length, times: [] };
  }
  for (let run = 0; run < RUNS; run++) {
    for (const form of ['select', 'if']) {
      const start = performance.now();
      await engine.run(converted[form].model, feeds(run % 2 === 0));
      converted[form].times.push(performance.now() - start);
    }
  }
  const s = stats(converted.select.times);
  const i = stats(converted.if.times);
  console.log(`| ${n} | ${s.min.toFixed(3)} / ${s.median.toFixed(3)} | ${i.min.toFixed(3)} / ${i.median.toFixed(3)} | ${(i.min / s.min).toFixed(2)} | ${converted.select.ops} / ${converted.if.ops} |`);
}
await engine.dispose();
