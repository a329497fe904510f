import type { DiagnosticInit, Graph } from '@modelpass/ir';
import { gatherBlockQuantizedNote } from './gather-block-quantized.js';
import { matMulNBitsNotes } from './matmul-nbits.js';

export const BLOCK_QUANTIZED_OPS = ['com.microsoft.MatMulNBits', 'com.microsoft.GatherBlockQuantized'] as const;

/** What legalize-tflite says about the block-quantized tables it will lower: the bytes each takes in the .tflite file. */
export function blockQuantizedNotes(graph: Graph): DiagnosticInit[] {
  const notes = matMulNBitsNotes(graph);
  for (const node of graph.nodes()) {
    if (node.op !== 'com.microsoft.GatherBlockQuantized') continue;
    const note = gatherBlockQuantizedNote(node);
    if (note) notes.push(note);
  }
  return notes;
}
