import { createHash } from 'node:crypto';
import { formatType, type Attribute, type Tensor } from '@modelpass/ir';

/**
 * A content hash of a tensor: dtype, shape and bytes (or strings). The bytes are hashed chunk by
 * chunk, so a tensor larger than memory (or than one 2 GiB read) is never loaded whole.
 */
export function tensorFingerprint(tensor: Tensor): string {
  const hash = createHash('sha256');
  hash.update(`${tensor.dtype}[${tensor.shape.join(',')}]`);
  if (tensor.dtype === 'string') hash.update(JSON.stringify(tensor.strings));
  else for (const chunk of tensor.byteChunks()) hash.update(chunk);
  if (tensor.quant) hash.update(JSON.stringify(tensor.quant));
  return hash.digest('hex');
}

function numberKey(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** A string that is equal for equal attributes; undefined for attributes holding graphs or references. */
export function attributeFingerprint(attribute: Attribute): string | undefined {
  switch (attribute.kind) {
    case 'ref':
    case 'graph':
    case 'graphs':
    case 'sparse-tensor':
    case 'sparse-tensors':
      return undefined;
    case 'float':
      return `f:${numberKey(attribute.value)}`;
    case 'floats':
      return `fs:${attribute.value.map(numberKey).join(',')}`;
    case 'int':
    case 'string':
    case 'ints':
    case 'strings':
      return `${attribute.kind}:${JSON.stringify(attribute.value)}`;
    case 'tensor':
      return `t:${tensorFingerprint(attribute.value)}`;
    case 'tensors':
      return `ts:${attribute.value.map(tensorFingerprint).join(',')}`;
    case 'type':
      return `ty:${formatType(attribute.value)}`;
    case 'types':
      return `tys:${attribute.value.map(formatType).join(',')}`;
  }
}

