import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { parsePipelineSyntax, printPipelineAst, type PipelineAst, type PipelineElementAst } from '@modelpass/pass-manager';

function errorOf(text: string): ModelpassError {
  try {
    parsePipelineSyntax(text);
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`'${text}' parsed`);
}

/** Drops columns so structures can be compared. */
function shape(ast: PipelineAst): unknown {
  return ast.elements.map((e: PipelineElementAst) => ({
    name: e.name,
    options: e.options.map((o) => ({ key: o.key, value: o.value.kind === 'scalar' ? o.value.text : o.value.items.map((i) => i.text) })),
    ...(e.nested ? { nested: shape(e.nested) } : {}),
  }));
}

describe('pipeline syntax (phase 1)', () => {
  it('parses passes, options, lists, quoted strings and nesting with columns', () => {
    const text = 'a,b{x=1 y=foo},repeat{times=2}(c, d{l=[1, 2,3] s="a b\\"c"})';
    const ast = parsePipelineSyntax(text);
    expect(shape(ast)).toEqual([
      { name: 'a', options: [] },
      { name: 'b', options: [{ key: 'x', value: '1' }, { key: 'y', value: 'foo' }] },
      {
        name: 'repeat',
        options: [{ key: 'times', value: '2' }],
        nested: [
          { name: 'c', options: [] },
          { name: 'd', options: [{ key: 'l', value: ['1', '2', '3'] }, { key: 's', value: 'a b"c' }] },
        ],
      },
    ]);
    expect(ast.elements.map((e) => e.column)).toEqual([1, 3, 16]);
    expect(ast.elements[1]!.options[1]!.column).toBe(9);
    const nested = ast.elements[2]!.nested!.elements;
    expect(nested[1]!.column).to.equal(text.indexOf('d{') + 1);
    expect(printPipelineAst(ast)).toBe('a,b{x=1 y=foo},repeat{times=2}(c,d{l=[1,2,3] s="a b\\"c"})');
  });

  it('accepts the empty pipeline and an empty nested pipeline', () => {
    expect(parsePipelineSyntax('').elements).toEqual([]);
    expect(parsePipelineSyntax('  ').elements).toEqual([]);
    expect(printPipelineAst(parsePipelineSyntax('repeat{times=1}()'))).toBe('repeat{times=1}()');
  });

  it('decodes escapes and prints what needs quoting quoted', () => {
    const ast = parsePipelineSyntax('p{a="x\\ny\\t\\u0041\\\\" b="" c="{,}"}');
    const values = ast.elements[0]!.options.map((o) => (o.value.kind === 'scalar' ? o.value.text : ''));
    expect(values).toEqual(['x\ny\tA\\', '', '{,}']);
    expect(printPipelineAst(ast)).toBe('p{a="x\\ny\\tA\\\\" b="" c="{,}"}');
  });

  it.each([
    ['a,b{x=1', "unbalanced '{'", 4],
    ['a,b(c', "unbalanced '('", 4],
    ['a,b)', "unbalanced ')'", 4],
    ['a}', "unbalanced '}'", 2],
    ['a{x}', "expected '=' after option 'x'", 4],
    ['a{x=}', "expected a value for option 'x'", 5],
    ['a{x="abc}', 'unterminated string', 5],
    ['a{x="\\q"}', "unknown escape '\\q'", 6],
    ['a,,b', "expected a pass name after ','", 3],
    ['a,', "expected a pass name after ','", 3],
    ['a b', "expected ',' between passes", 3],
    ['a{x=[1,2}', "expected ',' or ']'", 9],
    ['a{x=[1,[2]]}', 'nested lists', 8],
    ['a{x=1,y=2}', "expected a space or '}' after the value of option 'x', found ',' (options are separated by spaces: {a=1 b=2})", 6],
    ['q{ops=Conv,MatMul}', 'a list is written in brackets: ops=[a,b])', 11],
    ['q{dataset=idx:a.idx,b.idx}', '(quote a value that holds a comma: dataset="a,b"', 20],
    ['{x=1}', 'expected a pass name', 1],
  ])('rejects %j: %s at column %i', (text, reason, column) => {
    const error = errorOf(text);
    expect(error.message).toContain(reason);
    expect(error.location).toEqual({ line: 1, column });
    expect(error.message).toContain(`at 1:${column}`);
  });

  it('shows the column with a caret under the pipeline', () => {
    const error = errorOf('canonicalize,prune{x=1');
    expect(error.message).toBe(`unbalanced '{': the options of 'prune' are never closed at 1:19\n  canonicalize,prune{x=1\n  ${' '.repeat(18)}^`);
  });

  it('shows a window of a long pipeline around the column, not the whole line', () => {
    const text = Array.from({ length: 3000 }, () => 'dce').join(',') + ',prune{x=1';
    const error = errorOf(text);
    const [, excerpt, caret] = error.message.split('\n');
    expect(excerpt!.length).toBeLessThanOrEqual(104);
    expect(caret!.length).toBeLessThanOrEqual(104);
    expect(excerpt!.startsWith('  …')).toBe(true);
    expect(excerpt!.endsWith('prune{x=1')).toBe(true);
    // the caret still points at the '{' that is never closed
    expect(excerpt![caret!.length - 1]).toBe('{');
    const deep = 'r{t=1}('.repeat(5000) + 'dce' + ')'.repeat(5000);
    const tooDeep = (() => {
      try {
        parsePipelineSyntax(deep, { maxNesting: 32 });
      } catch (e) {
        return e as ModelpassError;
      }
      throw new Error('parsed');
    })();
    const lines = tooDeep.message.split('\n');
    expect(lines[1]!.endsWith('…')).toBe(true);
    expect(lines[1]![lines[2]!.length - 1]).toBe('(');
    expect(tooDeep.message.length).toBeLessThan(400);
  });

  it('rejects multi-line text', () => {
    expect(() => parsePipelineSyntax('a,\nb')).toThrow(/one line/);
  });

  it('print → parse → print is the identity on random structures', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}$/);
    const scalar = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.stringMatching(/^[A-Za-z0-9._+-]{1,8}$/),
      fc.constantFrom('true', 'false', '0.5', '-1e3', 'a b', '"', '\\', '{', '[x]', '\n', 'ü∂'),
    );
    const value = fc.oneof(
      scalar.map((text) => ({ kind: 'scalar' as const, text, column: 0 })),
      fc.array(scalar, { maxLength: 4 }).map((items) => ({ kind: 'list' as const, items: items.map((text) => ({ kind: 'scalar' as const, text, column: 0 })), column: 0 })),
    );
    const options = fc.array(fc.record({ key: name, value, column: fc.constant(0) }), { maxLength: 3 });
    const { pipeline } = fc.letrec<{ pipeline: PipelineAst; element: PipelineElementAst }>((tie) => ({
      pipeline: fc.record({ elements: fc.array(tie('element'), { maxLength: 3 }) }),
      element: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ name, column: fc.constant(0), options }),
        fc.record({ name, column: fc.constant(0), options, nested: tie('pipeline') }),
      ),
    }));
    fc.assert(
      fc.property(pipeline, (ast) => {
        const text = printPipelineAst(ast);
        const reparsed = parsePipelineSyntax(text);
        expect(shape(reparsed)).toEqual(shape(ast));
        expect(printPipelineAst(reparsed)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
