// Regression tests for the fuzzer's mpir findings (tools/fuzz/findings/mpir/mpir-huge-int*.mpir):
// an int attribute literal beyond a double's range read as Infinity, which printModel wrote as
// 'Infinity' and parseModel then refused. It is now a located error; ints a double holds round-trip.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, printModel } from '@modelpass/ir';

const findings = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/fuzz/findings/mpir');
const wrap = (attributes: string) => `model opsets{onnx=13} {\ngraph @main(%x: float32[2]) {\n  %y: float32[2] = onnx.Identity(%x) {${attributes}}\n  return %y\n}\n}\n`;

function parseError(text: string, file = 'huge.mpir'): ModelpassError {
  try {
    parseModel(text, { file });
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a parse error');
}

describe('int attributes beyond what a number holds', () => {
  it.each(['mpir-huge-int.mpir', 'mpir-huge-int-list.mpir', 'mpir-huge-int-list-tail.mpir'])('%s is a located error', (file) => {
    const error = parseError(readFileSync(join(findings, file), 'utf8'), file);
    expect(error.reason).toBe('integer attribute value is too large to represent');
    expect(error.location).toMatchObject({ file, line: 3 });
    expect(error.message).toContain('an integer of 320 digits');
  });

  it('refuses 310 digits and more, singly and in lists, negative too', () => {
    expect(parseError(wrap(`axis=${'9'.repeat(310)}`)).reason).toBe('integer attribute value is too large to represent');
    expect(parseError(wrap(`axes=[1, -${'9'.repeat(320)}]`)).location).toMatchObject({ line: 3, column: 48 });
  });

  it('keeps int64 extremes, 300-digit ints and float attributes of any size; print → parse → print is stable', () => {
    const text = wrap(`a=9223372036854775807, b=-9223372036854775808, c=[0, 9223372036854775807, ${'9'.repeat(300)}], d=1e400, e=[1.5, 1e999]`);
    const printed = printModel(parseModel(text));
    expect(printModel(parseModel(printed))).toBe(printed);
    const node = parseModel(printed).graph.nodeList()[0]!;
    expect(node.attributes.get('a')).toEqual({ kind: 'int', value: 2 ** 63 });
    expect(node.attributes.get('b')).toEqual({ kind: 'int', value: -(2 ** 63) });
    expect(node.attributes.get('d')).toEqual({ kind: 'float', value: Infinity });
  });
});
