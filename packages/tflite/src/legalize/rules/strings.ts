/**
 * Ops with no TFLite counterpart by nature, refused per node with why: string processing
 * (TFLite 2.9 has no string builtins; its string tensors only feed a few custom ops) and image
 * decoding (bytes → pixels happens before a TFLite model runs).
 */
import type { LoweringRule } from '../lowering-rule.js';

const STRING_OPS = ['StringConcat', 'StringNormalizer', 'StringSplit', 'RegexFullMatch', 'TfIdfVectorizer', 'LabelEncoder'];

function refuse(ops: readonly string[], reason: (op: string) => string): LoweringRule {
  return {
    ops: ops.map((op) => `onnx.${op}`),
    stage: 'lower',
    targets: [],
    check: (node) => reason(node.opType),
    lower(node) {
      throw node.error(reason(node.opType));
    },
  };
}

export const nonTensorOpRules: readonly LoweringRule[] = [
  refuse(STRING_OPS, (op) => `${op} processes strings/tokens, which TFLite has no builtin for (TFLite 2.9's string tensors only feed custom ops); run it before the model`),
  refuse(['ImageDecoder'], () => 'ImageDecoder decodes encoded image bytes, which TFLite has no builtin for; decode images before the model and feed pixels'),
];
