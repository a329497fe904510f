/**
 * Float patterns a full-integer QDQ model quantizes at their input and output only (quantize-static{full-integer=true},
 * packages/quantize/src/static/composites.ts), each become one int8 TFLite op before the int8 checks, so the
 * pattern's calibrated output scale is the op's:
 * - erf-GELU (`x · 0.5 · (1 + erf(x/√2))`, float inside between DQ(x) and Q(y)) → `onnx.Gelu` on the quant<> values
 *   (GELU, builtin 150: TFLite 2.9 runs it on int8 with a table);
 * - `Reciprocal(Sqrt(x))` with x and the result quantized, the Sqrt's output read by the Reciprocal only → RSQRT on
 *   int8 (TFLite 2.9's int8 RSQRT; no int8 SQRT or DIV there). Written as a `tflite.RSQRT` node right away: the
 *   canonical op set has no reciprocal square root, and the lowering keeps tflite-dialect nodes as they are.
 * The one-op kernels are tested in packages/runtime/src/__tests__/tflite-int8-kernels.test.ts.
 */
import type { Graph, Node } from '@modelpass/ir';
import { erfGelu } from '../prepare.js';
import { quantOf } from './quant-values.js';

function reciprocalSqrtAsRsqrt(reciprocal: Node): boolean {
  const root = reciprocal.inputs[0];
  const sqrt = root?.producer;
  if (!root || !sqrt || sqrt.op !== 'onnx.Sqrt' || root.useCount !== 1 || root.isGraphOutput || quantOf(root)) return false;
  const x = sqrt.inputs[0];
  const output = reciprocal.output(0);
  if (!x || x.isConstant || !quantOf(x) || !quantOf(output)) return false;
  const graph = reciprocal.graph!;
  const rsqrt = graph.createNode({ op: 'tflite.RSQRT', name: graph.uniqueNodeName(`${reciprocal.name}/rsqrt`), inputs: [x], outputs: [{ name: graph.uniqueName(`${output.name}_rsqrt`), type: output.type }], before: reciprocal });
  const name = output.name;
  output.replaceAllUsesWith(rsqrt.output(0));
  reciprocal.erase();
  sqrt.erase();
  rsqrt.output(0).rename(name);
  return true;
}

/** Rewrites the quantized composites of `graph` (see the file's comment); returns how many. */
export function quantizedCompositesAsInt8Ops(graph: Graph): { gelus: number; rsqrts: number } {
  let gelus = 0;
  let rsqrts = 0;
  for (const node of graph.nodeList()) {
    if (!node.graph) continue;
    if (node.op === 'onnx.Erf' && quantOf(geluInput(node))) {
      // The Div/Erf/Add/Mul the Gelu replaces (its last Mul is gone): erased here, before the int8 checks name them.
      const pattern = geluPatternNodes(node);
      if (!erfGelu(node)) continue;
      gelus++;
      for (let changed = true; changed; ) {
        changed = false;
        for (const candidate of pattern) {
          if (!candidate.graph || candidate.outputs.some((v) => v && (v.hasUses || v.isGraphOutput))) continue;
          candidate.erase();
          changed = true;
        }
      }
    } else if (node.op === 'onnx.Reciprocal' && reciprocalSqrtAsRsqrt(node)) rsqrts++;
  }
  return { gelus, rsqrts };
}

/** The nodes an erf-GELU match can replace: the Div/Mul before the Erf, the Erf, and the Add/Mul nodes after it and on x. */
function geluPatternNodes(erf: Node): Node[] {
  const entry = erf.inputs[0]?.producer;
  const x = entry?.inputs[0];
  const after: Node[] = [];
  for (let frontier = [erf], depth = 0; depth < 3; depth++) {
    frontier = frontier.flatMap((node) => node.output(0).users).filter((user) => user.op === 'onnx.Add' || user.op === 'onnx.Mul');
    after.push(...frontier);
  }
  const onX = x ? x.users.filter((user) => user.op === 'onnx.Mul' && user !== entry) : [];
  return [...after, ...onX, erf, ...(entry ? [entry] : [])];
}

/** The x of an erf-GELU at its Erf node (the first input of the Div/Mul before it), for the quant<> check. */
function geluInput(erf: Node) {
  return erf.inputs[0]?.producer?.inputs[0];
}
