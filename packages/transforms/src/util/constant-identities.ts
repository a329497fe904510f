import type { Model } from '@modelpass/ir';

/**
 * Forwards `Identity(constant)` to the constant itself. PyTorch's ONNX exporter writes one initializer per
 * distinct tensor and an Identity for each parameter whose values equal another's (zero-initialised biases of
 * torchvision's SqueezeNet/GoogLeNet/MNASNet, the deep-copied layers of an nn.TransformerEncoder), so those
 * layers' weights and biases are "not a constant" to a pass that reads them as constants (the quantizers left
 * them float before they called this) — SqueezeNet's file
 * shrank to 0.66× instead of ~0.26×, and quantize-dynamic made a 2-layer transformer's file larger. An
 * Identity whose output is a graph output keeps it. Returns how many were forwarded.
 */
export function forwardConstantIdentities(model: Model): number {
  let forwarded = 0;
  for (const node of [...model.graph.nodesOf('onnx.Identity')]) {
    const input = node.inputs[0];
    const output = node.outputs[0];
    if (!input?.isConstant || !output || output.isGraphOutput || node.outputs.length !== 1) continue;
    output.replaceAllUsesWith(input);
    node.erase();
    forwarded++;
  }
  return forwarded;
}
