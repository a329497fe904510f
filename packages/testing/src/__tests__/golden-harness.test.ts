import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { definePass, definePlugin, option } from '@modelpass/pass-manager';
import { checkGoldenRun, diffLines, discoverGoldenCases, GoldenMismatch, runGoldenCase, runGoldenCases } from '@modelpass/testing';

/** A real pass: readers of a Relu read its input instead (unless the node is named in `keep`). */
const dropRelu = definePass({
  name: 'drop-relu',
  summary: 'Remove Relu nodes (a test pass)',
  options: { keep: option.list(option.string({}), { default: [] as string[] }) },
  statistics: ['relus-removed'],
  run(model, context) {
    for (const node of model.graph.nodesOf('onnx.Relu')) {
      if (context.options.keep.includes(node.name ?? '')) continue;
      const output = node.outputs[0]!;
      if (output.isGraphOutput) {
        context.report({ severity: 'warning', reason: `Relu '${node.name}' feeds a graph output and stays` });
        continue;
      }
      output.replaceAllUsesWith(node.inputs[0]!);
      node.erase();
      context.statistic('relus-removed');
    }
    return context.preserveNone();
  },
});
const plugin = definePlugin({ name: 'drop-relu-plugin', version: '1.0.0', passManager: '>=0.1.0', passes: [dropRelu] });

const INPUT = `model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2]) {
  %a: float32[2] = onnx.Relu(%x) name="r1"
  %b: float32[2] = onnx.Neg(%a) name="neg"
  %y: float32[2] = onnx.Relu(%b) name="r2"
  return %y
}
}
`;
const REMOVED = `model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2]) {
  %b: float32[2] = onnx.Neg(%x) name="neg"
  %y: float32[2] = onnx.Relu(%b) name="r2"
  return %y
}
}
`;

const temp = mkdtempSync(join(tmpdir(), 'modelpass-testing-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function writeCase(root: string, path: string, files: Record<string, string>): string {
  const dir = join(root, path);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// The suite this package offers, run on fixtures written here: three layouts and options forms.
const suiteRoot = join(temp, 'suite');
writeCase(suiteRoot, 'drop-relu/removes-inner', { 'input.mpir': INPUT, 'output.mpir': REMOVED });
writeCase(suiteRoot, 'drop-relu/declines-kept', { 'input.mpir': INPUT, 'output.mpir': INPUT, 'options.json': '{"keep": ["r1"]}' });
writeCase(suiteRoot, 'drop-relu/with-expectations', {
  'input.mpir': INPUT,
  'output.mpir': REMOVED,
  'options.json': JSON.stringify({ options: {}, statistics: { 'drop-relu': { 'relus-removed': 1 } }, warnings: ["Relu 'r2' feeds a graph output"] }),
});
const suiteCases = runGoldenCases({ title: 'runGoldenCases on a fixtures folder', dir: suiteRoot, plugin, requireCasesFor: ['drop-relu'] });

describe('discoverGoldenCases', () => {
  it('finds <pass>/<case> folders and builds the pipeline from options.json', () => {
    expect(suiteCases.map((c) => [c.label, c.pipeline, c.declines])).toEqual([
      ['drop-relu/declines-kept', 'drop-relu{keep=[r1]}', true],
      ['drop-relu/removes-inner', 'drop-relu', false],
      ['drop-relu/with-expectations', 'drop-relu', false],
    ]);
  });

  it('finds <case> folders whose options.json names the pipeline', () => {
    const root = join(temp, 'flat');
    writeCase(root, 'one', { 'input.mpir': INPUT, 'options.json': '{"pipeline": "drop-relu,drop-relu"}' });
    expect(discoverGoldenCases(root).map((c) => [c.label, c.pass, c.pipeline])).toEqual([['one', undefined, 'drop-relu,drop-relu']]);
  });

  it('rejects a missing folder, an empty one, bad JSON, unknown keys and a case without a pipeline, naming the file', () => {
    expect(() => discoverGoldenCases(join(temp, 'nope'))).toThrow(/golden fixtures folder '.*nope' does not exist/);
    mkdirSync(join(temp, 'empty'));
    expect(() => discoverGoldenCases(join(temp, 'empty'))).toThrow(/no golden cases under/);
    const bad = (name: string, path: string, options: string, pattern: RegExp): void => {
      const root = join(temp, name);
      const dir = writeCase(root, path, { 'input.mpir': INPUT, 'options.json': options });
      let error: unknown;
      try {
        discoverGoldenCases(root);
      } catch (caught) {
        error = caught;
      }
      expect(ModelpassError.is(error), String(error)).toBe(true);
      expect((error as ModelpassError).message).toMatch(pattern);
      expect((error as ModelpassError).message).toContain(join(dir, 'options.json'));
    };
    bad('bad-json', 'p/c', '{"keep": ', /not valid JSON/);
    bad('unknown-key', 'p/c', '{"pipeline": "x", "keep": 1}', /unknown key 'keep' next to 'pipeline'/);
    bad('no-pipeline', 'c', '{}', /case 'c' names no pipeline/);
    bad('nested-option', 'p/c', '{"keep": {"a": 1}}', /option 'keep' must be a string, number, boolean or a list/);
  });
});

describe('checkGoldenRun', () => {
  it('fails a changed golden with a unified diff that names the file and the update command', async () => {
    const dir = writeCase(temp, 'mismatch/drop-relu/c', { 'input.mpir': INPUT, 'output.mpir': INPUT });
    const [testCase] = discoverGoldenCases(join(temp, 'mismatch'));
    const run = await runGoldenCase(testCase!, { plugin, update: false });
    let error: unknown;
    try {
      checkGoldenRun(run);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GoldenMismatch);
    const message = (error as Error).message;
    expect(message).toContain(join(dir, 'output.mpir'));
    expect(message).toContain('UPDATE_GOLDENS=1');
    expect(message).toContain('-  %a: float32[2] = onnx.Relu(%x) name="r1"\n-  %b: float32[2] = onnx.Neg(%a) name="neg"\n+  %b: float32[2] = onnx.Neg(%x) name="neg"');
  });

  it('fails wrong statistics, wrong warnings, a changing declines-* case and a missing output.mpir', async () => {
    const root = join(temp, 'expectations');
    writeCase(root, 'drop-relu/stats', { 'input.mpir': INPUT, 'output.mpir': REMOVED, 'options.json': '{"statistics": {"drop-relu": {"relus-removed": 2}}}' });
    writeCase(root, 'drop-relu/warns', { 'input.mpir': INPUT, 'output.mpir': REMOVED, 'options.json': '{"warnings": []}' });
    writeCase(root, 'drop-relu/declines-but-changes', { 'input.mpir': INPUT, 'output.mpir': REMOVED });
    writeCase(root, 'drop-relu/no-output', { 'input.mpir': INPUT });
    const messages: Record<string, string> = {};
    for (const testCase of discoverGoldenCases(root)) {
      const run = await runGoldenCase(testCase, { plugin, update: false });
      messages[testCase.name] = (() => {
        try {
          checkGoldenRun(run);
          return 'passed';
        } catch (error) {
          return (error as Error).message;
        }
      })();
    }
    expect(messages['stats']).toMatch(/statistic 'drop-relu.relus-removed' is 1, options.json expects 2/);
    expect(messages['warns']).toMatch(/expected the warnings \[\] .*got \["Relu 'r2' feeds a graph output and stays"\]/);
    expect(messages['declines-but-changes']).toMatch(/a declines-\* case must leave the model unchanged/);
    expect(messages['no-output']).toMatch(/output.mpir does not exist; run the tests with UPDATE_GOLDENS=1/);
  });

  it('with update (UPDATE_GOLDENS=1) rewrites output.mpir and then passes', async () => {
    const dir = writeCase(temp, 'update/drop-relu/c', { 'input.mpir': INPUT, 'output.mpir': INPUT });
    const [testCase] = discoverGoldenCases(join(temp, 'update'));
    const run = await runGoldenCase(testCase!, { plugin, update: true });
    expect(run.updated).toBe(true);
    checkGoldenRun(run);
    expect(readFileSync(join(dir, 'output.mpir'), 'utf8')).toBe(REMOVED);
    const again = await runGoldenCase(testCase!, { plugin, update: true });
    expect(again.updated).toBe(false);
  });
});

describe('diffLines', () => {
  it('is empty for equal texts and shows hunks with context otherwise', () => {
    expect(diffLines('a\nb\n', 'a\nb\n')).toBe('');
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const changed = [...lines];
    changed[10] = 'line ten';
    expect(diffLines(lines.join('\n'), changed.join('\n'), { context: 1 })).toBe(
      ['--- expected', '+++ actual', '@@ -10,3 +10,3 @@', ' line 9', '-line 10', '+line ten', ' line 11'].join('\n'),
    );
  });
});
