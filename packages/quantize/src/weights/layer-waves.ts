/**
 * Sequential GPTQ's order: the layers in waves, each layer in the wave after the last layer whose
 * output reaches its input. A wave's Hessians come from one ORT run of the model with every earlier
 * wave already quantized, so each layer sees the inputs it will see at inference (GPTQ proper),
 * while layers that read the same input or sit side by side (q/k/v projections) share that run.
 */
import type { Node, Value } from '@modelpass/ir';
import type { LinearLayer } from './linear-layers.js';

/** Every value computed from `node`'s outputs (in this graph, following users). */
function downstreamOf(node: Node): Set<Value> {
  const seen = new Set<Value>();
  const pending: Value[] = node.outputs.filter((v): v is Value => v !== null);
  while (pending.length > 0) {
    const value = pending.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    for (const user of value.users) for (const output of user.outputs) if (output && !seen.has(output)) pending.push(output);
  }
  return seen;
}

/** `layers` grouped into waves, in order; a layer's wave is one after the latest wave of a layer feeding it. */
export function layerWaves(layers: readonly LinearLayer[]): LinearLayer[][] {
  const feeds = new Map<LinearLayer, LinearLayer[]>(layers.map((layer) => [layer, []]));
  for (const upstream of layers) {
    const reached = downstreamOf(upstream.node);
    for (const layer of layers) if (layer !== upstream && reached.has(layer.node.input(0))) feeds.get(layer)!.push(upstream);
  }
  const wave = new Map<LinearLayer, number>();
  const waveOf = (layer: LinearLayer, path: Set<LinearLayer>): number => {
    const known = wave.get(layer);
    if (known !== undefined) return known;
    if (path.has(layer)) return 0; // a cycle cannot occur in a DAG; guard anyway
    path.add(layer);
    const index = Math.max(-1, ...feeds.get(layer)!.map((upstream) => waveOf(upstream, path))) + 1;
    path.delete(layer);
    wave.set(layer, index);
    return index;
  };
  const waves: LinearLayer[][] = [];
  for (const layer of layers) (waves[waveOf(layer, new Set())] ??= []).push(layer);
  return waves.filter((w) => w !== undefined);
}
