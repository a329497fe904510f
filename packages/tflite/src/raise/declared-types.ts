/**
 * A TFLite file's declared shapes of node outputs are not what the runtime uses: TFLite 2.9 computes
 * every output's shape when it prepares the op and resizes the tensor. A converter quirk or an edited
 * file can therefore declare a shape the op does not give (an output declared [1048576,13] after an
 * ADD of two [7,13] tensors runs fine in TFLite). Raised ops take their output types from the
 * declarations, and such a value used to fail verification after raise-tflite ("left the IR invalid",
 * with a reproducer, for a file TFLite runs). Before raising, each node output whose declared tensor
 * type contradicts the op's own inference (dtype, rank or a static dim) takes the inferred type,
 * in graph order so the correction reaches the nodes after it.
 */
import { isTensorType, type Model, type OpRegistry, type Type } from '@modelpass/ir';

function contradicts(declared: Type, inferred: Type): boolean {
  if (!isTensorType(declared) || !isTensorType(inferred)) return false;
  if (declared.quant) return false; // quantized storage types are the file's to state
  if (declared.dtype !== inferred.dtype) return true;
  if (!declared.shape || !inferred.shape) return false;
  if (declared.shape.length !== inferred.shape.length) return true;
  return declared.shape.some((dim, i) => typeof dim === 'number' && typeof inferred.shape![i] === 'number' && dim !== inferred.shape![i]);
}

/** Replaces contradicted declared output types by inferred ones; returns the names of the values changed. */
export function adoptInferredOutputTypes(model: Model, registry: OpRegistry): string[] {
  const changed: string[] = [];
  for (const node of model.graph.nodeList()) {
    if (!node.op.startsWith('tflite.') || node.subgraphs.length > 0) continue;
    let inferred: readonly (Type | undefined)[] | undefined;
    try {
      inferred = registry.inferNode(node, model);
    } catch {
      continue; // inference that fails is reported by the checks that run it
    }
    node.outputs.forEach((value, index) => {
      const type = inferred?.[index];
      if (!value || !type || !contradicts(value.type, type)) return;
      value.type = type;
      changed.push(value.name);
    });
  }
  return changed;
}
