/**
 * ONNX GRU / LSTM → `torch.gru` / `torch.lstm` (aten's `input, hx, params, has_biases, num_layers,
 * dropout, train, bidirectional, batch_first` form), one call per node. ONNX keeps each direction's
 * gate blocks in its own order (GRU z,r,h; LSTM i,o,f,c) and both biases in one row [Wb, Rb]; the
 * written source regroups them into torch's order (GRU r,z,n; LSTM i,f,g,o) with `torch.chunk` and
 * `torch.cat`, so any W/R/B (stored or computed) is written as it is. Outputs are reshaped to
 * ONNX's layouts: Y [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]), Y_h / Y_c
 * [dirs, batch, hidden] (layout 1: [batch, dirs, hidden]).
 */
import type { Node } from '@modelpass/ir';
import type { EmitContext, OpEmitter } from './emit-context.js';

type Cell = 'GRU' | 'LSTM';

interface CellSpec {
  gates: number;
  /** For each torch gate slot, the ONNX gate block it takes. */
  torchOrder: readonly number[];
  /** ONNX's default activations per direction (torch computes only these). */
  activations: readonly string[];
  /** Number of state inputs/outputs (h, or h and c). */
  states: number;
}

const CELLS: Record<Cell, CellSpec> = {
  GRU: { gates: 3, torchOrder: [1, 0, 2], activations: ['Sigmoid', 'Tanh'], states: 1 },
  LSTM: { gates: 4, torchOrder: [0, 2, 3, 1], activations: ['Sigmoid', 'Tanh', 'Tanh'], states: 2 },
};

/** What torch's cells cannot compute is refused by name. */
function checkSupported(e: EmitContext, node: Node, cell: Cell): void {
  const spec = CELLS[cell];
  const activations = node.optionalAttr('activations', 'strings');
  if (activations && activations.some((name, i) => name.toLowerCase() !== spec.activations[i % spec.activations.length]!.toLowerCase())) {
    e.fail(node, `activations [${activations.join(', ')}] (torch.${cell.toLowerCase()} computes only ${spec.activations.join(', ')})`);
  }
  if (node.optionalAttr('activation_alpha', 'floats') || node.optionalAttr('activation_beta', 'floats')) e.fail(node, 'activation_alpha/beta');
  if (node.optionalAttr('clip', 'float') !== undefined) e.fail(node, 'clip (torch has no cell clipping)');
  if (node.inputs[4]) e.fail(node, 'a sequence_lens input (torch runs every sequence to the full length; pack the batch instead)');
  if (cell === 'GRU' && node.attr('linear_before_reset', 'int', 0) !== 1) {
    e.fail(node, 'linear_before_reset=0 (torch.gru applies the reset gate after the recurrent linear: linear_before_reset=1)');
  }
  if (cell === 'LSTM') {
    if (node.attr('input_forget', 'int', 0) !== 0) e.fail(node, 'input_forget=1 (coupled input and forget gates)');
    if (node.inputs[7]) e.fail(node, 'peephole weights P (torch.lstm has none)');
  }
}

function recurrent(cell: Cell): OpEmitter {
  return (e, node) => {
    checkSupported(e, node, cell);
    const spec = CELLS[cell];
    const direction = node.attr('direction', 'string', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) e.fail(node, `direction '${direction}'`);
    const directions = direction === 'bidirectional' ? 2 : 1;
    const batchFirst = node.attr('layout', 'int', 0) === 1;
    const timeAxis = batchFirst ? 1 : 0;
    const batchAxis = batchFirst ? 0 : 1;
    const hidden = node.attr('hidden_size', 'int', 0);
    const rRows = e.constantOf(node.inputs[2])?.shape[1];
    if (hidden <= 0 && rRows === undefined) e.fail(node, 'hidden_size is not set and R is not a constant');
    const hiddenSize = hidden > 0 ? hidden : rRows! / spec.gates;
    const base = e.name(node.outputs.find((o) => o) ?? null);
    const [x, w, r, b] = [0, 1, 2, 3].map((i) => e.name(node.inputs[i] ?? null));
    const sequence = direction === 'reverse' ? `${base}_flipped` : x;
    if (direction === 'reverse') e.line(`${sequence} = torch.flip(${x}, [${timeAxis}])`);

    // Per direction: w_ih, w_hh (and b_ih, b_hh), gate blocks in torch's order.
    const params: string[] = [];
    const regrouped = (source: string, blocks: number, offset: number, d: number, what: string): string => {
      const parts = `${base}_${what}${d}`;
      e.line(`${parts} = torch.chunk(torch.select(${source}, 0, ${d}), ${blocks}, 0)`);
      return `torch.cat([${spec.torchOrder.map((g) => `${parts}[${g + offset}]`).join(', ')}], 0)`;
    };
    for (let d = 0; d < directions; d++) {
      params.push(regrouped(w, spec.gates, 0, d, 'w'), regrouped(r, spec.gates, 0, d, 'r'));
      if (node.inputs[3]) params.push(regrouped(b, 2 * spec.gates, 0, d, 'bi'), `torch.cat([${spec.torchOrder.map((g) => `${base}_bi${d}[${g + spec.gates}]`).join(', ')}], 0)`);
    }
    const paramList = `${base}_params`;
    e.line(`${paramList} = [${params.join(', ')}]`);

    // Initial states: torch's hx is [dirs, batch, hidden] in both layouts; absent ones are zeros.
    const initial = Array.from({ length: spec.states }, (_, s) => {
      const given = node.inputs[5 + s];
      const name = `${base}_h${s}`;
      if (given) e.line(`${name} = ${batchFirst ? `torch.transpose(${e.name(given)}, 0, 1)` : e.name(given)}`);
      else e.line(`${name} = torch.zeros([${directions}, torch.size(${x}, ${batchAxis}), ${hiddenSize}], dtype=ops.prim.dtype(${x}), layout=None, device=ops.prim.device(${x}), pin_memory=None)`);
      return name;
    });
    const hx = cell === 'GRU' ? initial[0]! : `[${initial.join(', ')}]`;
    const outputs = [`${base}_out`, ...Array.from({ length: spec.states }, (_, s) => `${base}_state${s}`)];
    const call = `torch.${cell.toLowerCase()}(${sequence}, ${hx}, ${paramList}, ${node.inputs[3] ? 'True' : 'False'}, 1, 0., False, ${directions === 2 ? 'True' : 'False'}, ${batchFirst ? 'True' : 'False'})`;
    e.line(`${outputs.join(', ')}, = ${call}`);

    const y = node.outputs[0];
    if (y) {
      const out = direction === 'reverse' ? `torch.flip(${outputs[0]}, [${timeAxis}])` : outputs[0]!;
      const split = `torch.reshape(${out}, [torch.size(${outputs[0]}, 0), torch.size(${outputs[0]}, 1), ${directions}, ${hiddenSize}])`;
      e.assign(node, batchFirst ? split : `torch.transpose(${split}, 1, 2)`, 0);
    }
    for (let s = 0; s < spec.states; s++) {
      const state = node.outputs[1 + s];
      if (state) e.assign(node, batchFirst ? `torch.transpose(${outputs[1 + s]}, 0, 1)` : outputs[1 + s]!, 1 + s);
    }
  };
}

export const recurrentEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.GRU', recurrent('GRU')],
  ['onnx.LSTM', recurrent('LSTM')],
];
