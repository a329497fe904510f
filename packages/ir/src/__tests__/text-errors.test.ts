import { describe, expect, it } from 'vitest';
import { ModelpassError, parseModel } from '@modelpass/ir';

/** Parses `text` and returns the located error it raises. */
function parseError(text: string): ModelpassError {
  try {
    parseModel(text, { file: 'bad.mpir' });
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a parse error');
}

const wrap = (body: string, inputs = '%x: float32[3]') => `model opsets{onnx=17} {\ngraph @main(${inputs}) {\n${body}\n}\n}\n`;

describe('parse errors are ModelpassErrors located at file:line:column', () => {
  const cases: { name: string; text: string; reason: RegExp; line: number; column?: number; at?: string }[] = [
    { name: 'missing close paren', text: wrap('  %y = onnx.Relu(%x %x)'), reason: /^expected '\)' after operands$/, line: 3, at: '%x)' },
    { name: 'undefined value', text: wrap('  %y = onnx.Relu(%nope)\n  return %y'), reason: /^undefined value '%nope'$/, line: 3, at: '%nope' },
    { name: 'undefined graph output', text: wrap('  return %nope'), reason: /^undefined value '%nope'$/, line: 3, column: 10 },
    { name: 'duplicate definition', text: wrap('  %y = onnx.Relu(%x)\n  %y = onnx.Relu(%x)'), reason: /^value '%y' is already defined$/, line: 4, column: 3 },
    { name: 'redefining a graph input', text: wrap('  %x = onnx.Relu(%x)'), reason: /^value '%x' is already defined$/, line: 3, column: 3 },
    { name: 'redefining an outer value in a subgraph', text: wrap('  %y = onnx.If(%x) {then_branch=graph @t() {\n    %x = onnx.Neg(%x)\n    return %x\n  }}'), reason: /^value '%x' is already defined$/, line: 4, column: 5 },
    { name: 'unknown dtype', text: wrap('', '%x: flaot32[3]'), reason: /^unknown dtype 'flaot32'$/, line: 2, column: 17 },
    { name: 'unknown dtype in a tensor literal', text: wrap('  const %c = tensor<f32[1]> [1]'), reason: /^unknown dtype 'f32'$/, line: 3, at: 'f32' },
    { name: 'op without dialect', text: wrap('  %y = Relu(%x)'), reason: /^op name 'Relu' has no dialect$/, line: 3, column: 8 },
    { name: 'unterminated string', text: wrap('  %y = onnx.Relu(%x) name="oops'), reason: /^unterminated string$/, line: 3, at: '"oops' },
    { name: 'bad escape', text: wrap('  %y = onnx.Relu(%x) name="a\\qb"'), reason: /^unknown escape '\\q' in string$/, line: 3, at: '\\q' },
    { name: 'elided tensor data', text: wrap('  const %w = tensor<float32[1000]> elided(4000)'), reason: /elided when this IR was printed/, line: 3, at: 'elided' },
    { name: 'wrong hex length', text: wrap('  const %w = tensor<float32[2]> hex"0000"'), reason: /^bad hex data for float32\[2\]$/, line: 3, at: '"0000"' },
    { name: 'wrong value count', text: wrap('  const %w = tensor<float32[2]> [1, 2, 3]'), reason: /^wrong number of values for float32\[2\]$/, line: 3, at: '[1, 2, 3]' },
    { name: 'value out of range', text: wrap('  const %w = tensor<int8[2]> [1, 300]'), reason: /^value 300 does not fit int8$/, line: 3, at: '300' },
    { name: 'float in an int tensor', text: wrap('  const %w = tensor<int32[1]> [1.5]'), reason: /^expected an integer int32 element$/, line: 3, column: 32 },
    { name: 'empty list without kind', text: wrap('  %y = onnx.Relu(%x) {a=[]}'), reason: /^an empty list needs its kind$/, line: 3, column: 25 },
    { name: 'duplicate attribute', text: wrap('  %y = onnx.Relu(%x) {a=1, a=2}'), reason: /^duplicate attribute 'a'$/, line: 3, at: 'a=2' },
    { name: 'default of a non-input', text: wrap('  const %c = tensor<float32[]> [1]\n  default %c = tensor<float32[]> [2]'), reason: /is not an input of graph '@main'/, line: 4, column: 11 },
    { name: 'missing closing brace', text: 'model {\ngraph @main() {\n  %y = onnx.Foo()\n', reason: /^expected '}' to close graph '@main'$/, line: 4, column: 1 },
    { name: 'garbage after the model', text: wrap('') + 'extra', reason: /^expected end of input$/, line: 6, column: 1 },
    { name: 'unknown model field', text: 'model irversion=3 {\n}', reason: /^unknown model field 'irversion'$/, line: 1, column: 7 },
    { name: 'unexpected character', text: wrap('  %y = onnx.Relu(%x) ;'), reason: /^unexpected character ";"$/, line: 3, at: ';' },
    { name: 'statement after return', text: wrap('  return %x\n  %y = onnx.Relu(%x)'), reason: /^expected '}' after return$/, line: 4, column: 3 },
    { name: 'file range of the wrong length', text: wrap('  const %w = tensor<float32[2]> file("w.bin", offset=0, length=4)'), reason: /^file range length does not match float32\[2\]$/, line: 3, at: '4)' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = parseError(c.text);
      // `at` is the text the error must point at on its line.
      const column = c.column ?? c.text.split('\n')[c.line - 1]!.indexOf(c.at!) + 1;
      expect(column).toBeGreaterThan(0);
      expect(error.reason).toMatch(c.reason);
      expect(error.location).toEqual({ file: 'bad.mpir', line: c.line, column });
      expect(error.message.startsWith(`bad.mpir:${c.line}:${column}: `)).toBe(true);
    });
  }

  it('names what it found instead', () => {
    const error = parseError(wrap('  %y = onnx.Relu(%x %x)'));
    expect(error.message).toBe("bad.mpir:3:21: expected ')' after operands (got '%x')");
  });

  it('notes where a duplicate was first defined', () => {
    const error = parseError(wrap('  %y = onnx.Relu(%x)\n  %y = onnx.Relu(%x)'));
    expect(error.diagnostics[0]!.notes).toEqual(['first defined on line 3']);
  });
});
