/** Attribute values as short text for a diff: numbers and lists as written, tensors by type and fingerprint. */
import { formatType, type Attribute, type Tensor } from '@modelpass/ir';
import { tensorFingerprint } from './tensor-error.js';

function tensorText(tensor: Tensor): string {
  return tensor.size <= 8 && tensor.dtype !== 'string' ? `tensor<${tensor.dtype}[${tensor.shape.join(',')}]> [${tensor.toNumbers().join(', ')}]` : `tensor ${tensorFingerprint(tensor)}`;
}

export function formatAttribute(attribute: Attribute): string {
  switch (attribute.kind) {
    case 'ref':
      return `@${attribute.refName}`;
    case 'float':
    case 'int':
      return String(attribute.value);
    case 'string':
      return JSON.stringify(attribute.value);
    case 'floats':
    case 'ints':
      return `[${attribute.value.join(', ')}]`;
    case 'strings':
      return `[${attribute.value.map((s) => JSON.stringify(s)).join(', ')}]`;
    case 'tensor':
      return tensorText(attribute.value);
    case 'tensors':
      return `[${attribute.value.map(tensorText).join(', ')}]`;
    case 'graph':
      return `graph @${attribute.value.name} (${attribute.value.nodeCount} nodes)`;
    case 'graphs':
      return `[${attribute.value.map((g) => `graph @${g.name}`).join(', ')}]`;
    case 'sparse-tensor':
      return `sparse tensor [${attribute.value.dims.join(',')}] ${tensorFingerprint(attribute.value.values)}`;
    case 'sparse-tensors':
      return `[${attribute.value.length} sparse tensors]`;
    case 'type':
      return formatType(attribute.value);
    case 'types':
      return `[${attribute.value.map(formatType).join(', ')}]`;
  }
}
