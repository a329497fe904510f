import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, parseModel, printModel } from '@modelpass/ir';
import {
  CrashReproducerInstrumentation,
  definePass,
  IrPrintingInstrumentation,
  option,
  PassFailure,
  PassRegistry,
  replayReproducer,
  runPipeline,
  StatisticsInstrumentation,
  TimingInstrumentation,
} from '@modelpass/pass-manager';
import { smallModel, testEnvironment } from './fixtures.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-pm-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Inserts an Identity after Relu (a real change). */
const insertIdentity = definePass({
  name: 'insert-identity',
  summary: 'i',
  statistics: ['inserted'],
  run(model, context) {
    const relu = model.graph.nodeList().find((n) => n.op === 'test.Relu')!;
    const identity = model.graph.createNode({ op: 'test.Identity', inputs: [relu.output()], after: relu, name: 'identity' });
    const neg = model.graph.nodeList().find((n) => n.op === 'test.Neg')!;
    neg.setInput(0, identity.output());
    context.statistic('inserted');
  },
});

/** Changes nothing but claims nothing either. */
const noop = definePass({ name: 'noop', summary: 'n', run() {} });

/** Moves Relu after its user Neg: the IR is no longer in SSA order. */
const breakOrder = definePass({
  name: 'break-order',
  summary: 'b',
  run(model) {
    const [relu, neg] = model.graph.nodeList();
    relu!.moveAfter(neg!);
  },
});

const explode = definePass({
  name: 'explode',
  summary: 'e',
  options: { when: option.enum(['always', 'never'], { default: 'always' }) },
  run(_model, context) {
    if (context.options.when === 'always') throw new Error('kaboom');
  },
});

/** Refuses its input with its own diagnosis (as a pass does for a missing file named in an option). */
const refuse = definePass({
  name: 'refuse',
  summary: 'r',
  run() {
    throw new ModelpassError({ reason: "cannot read teacher 'missing.onnx': it does not exist", code: 'test/missing-file' });
  },
});

const environment = testEnvironment(new PassRegistry([insertIdentity, noop, breakOrder, explode, refuse], '@modelpass/test'));

describe('instrumentation', () => {
  it('times each pass and prints a report table', async () => {
    const timing = new TimingInstrumentation();
    await runPipeline(smallModel(), 'noop,insert-identity,noop', { environment, instrumentations: [timing] });
    const report = timing.toJSON();
    expect(report.passes.map((p) => [p.pass, p.runs])).toEqual([['noop', 2], ['insert-identity', 1]]);
    const passTime = report.passes.reduce((s, p) => s + p.wallMs, 0);
    expect(report.totalMs).toBeGreaterThanOrEqual(passTime);
    const table = timing.report();
    expect(table).toContain('Total Execution Time');
    expect(table).toMatch(/\d\.\d{4} \(\s*\d+\.\d%\)\s+2\s+noop/);
    expect(table).toMatch(/Total\n$/);
  });

  it('collects statistics per pass as a table and JSON', async () => {
    const statistics = new StatisticsInstrumentation();
    await runPipeline(smallModel(), 'insert-identity,insert-identity,noop', { environment, instrumentations: [statistics] });
    expect(statistics.toJSON()).toEqual({ 'insert-identity': { inserted: 2 } });
    expect(statistics.report()).toContain('insert-identity\n  (S) 2 inserted');
  });

  it('prints IR before/after selected passes, and after-change only when the IR changed', async () => {
    const out: string[] = [];
    const printing = new IrPrintingInstrumentation({ before: ['insert-identity'], after: 'all', onlyOnChange: true, write: (t) => void out.push(t) });
    await runPipeline(smallModel(), 'noop,insert-identity,noop', { environment, instrumentations: [printing] });
    const headers = out.map((t) => t.split('\n')[0]);
    expect(headers).toEqual(['// -----// IR Dump Before insert-identity (#2) //----- //', '// -----// IR Dump After insert-identity (#2) //----- //']);
    expect(out[0]).not.toContain('test.Identity');
    expect(out[1]).toContain('test.Identity');

    out.length = 0;
    await runPipeline(smallModel(), 'noop,noop', { environment, instrumentations: [new IrPrintingInstrumentation({ after: ['noop'], write: (t) => void out.push(t) })] });
    expect(out).toHaveLength(2);
    await expect(
      runPipeline(smallModel(), 'noop', { environment, instrumentations: [new IrPrintingInstrumentation({ after: ['nop'], write: () => {} })] }),
    ).rejects.toThrow("IR printing after names unknown pass 'nop' — did you mean 'noop'?");
  });

  it("an unknown pass in --print-ir-after lists the pipeline's passes and says nothing about a reproducer", async () => {
    const directory = join(temp, 'no-reproducer-for-option-error');
    const reproducer = new CrashReproducerInstrumentation({ directory });
    const printing = new IrPrintingInstrumentation({ after: ['nope'], write: () => {} });
    const error = await runPipeline(smallModel(), 'noop,insert-identity', { environment, instrumentations: [printing, reproducer] }).then(
      () => undefined,
      (e: unknown) => e as ModelpassError,
    );
    expect(error?.message).toContain("IR printing after names unknown pass 'nope'");
    expect(error?.message).toContain("one of this pipeline's: noop, insert-identity");
    expect(error?.message).not.toContain('reproducer');
    expect(existsSync(directory)).toBe(false);
  });

  it('dumps IR files named NNN-<pass>.mpir that parse back', async () => {
    const dumps = join(temp, 'dumps');
    const printing = new IrPrintingInstrumentation({ dumpDirectory: dumps });
    await runPipeline(smallModel(), 'noop,insert-identity', { environment, instrumentations: [printing] });
    expect(readdirSync(dumps).sort()).toEqual(['000-input.mpir', '001-noop.mpir', '002-insert-identity.mpir']);
    const after = readFileSync(join(dumps, '002-insert-identity.mpir'), 'utf8');
    expect(after.startsWith('// IR Dump After insert-identity (#2)\n')).toBe(true);
    const model = parseModel(after, { file: '002-insert-identity.mpir' });
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['test.Relu', 'test.Identity', 'test.Neg']);
  });

  it('verify-each fails the pass that broke SSA, and can be turned off', async () => {
    const error = (await runPipeline(smallModel(), 'noop,break-order,noop', { environment }).catch((e: unknown) => e)) as PassFailure;
    expect(error).toBeInstanceOf(PassFailure);
    expect(error.passName).toBe('break-order');
    expect(error.reason).toBe("pass 'break-order' left the IR invalid (1 verifier error)");
    expect(error.diagnostics[1]!.reason).toContain('is used before it is defined');
    expect(error.diagnostics[1]!.location).toMatchObject({ node: 'neg' });

    const ran: string[] = [];
    const result = await runPipeline(smallModel(), 'noop,break-order,noop', { environment, verifyEach: false, instrumentations: [{ afterPass: (_m, i) => void ran.push(i.passName) }] });
    expect(ran).toEqual(['noop', 'break-order', 'noop']);
    expect(result.passesRun).toBe(3);
  });

  it('verify-each rejects invalid input before any pass runs', async () => {
    const model = smallModel();
    model.graph.nodeList()[0]!.moveAfter(model.graph.nodeList()[1]!);
    await expect(runPipeline(model, 'noop', { environment })).rejects.toThrow(/the input model is invalid before any pass ran/);
  });

  it('verify-each accepts unknown ops of the input but fails a pass that introduces one', async () => {
    const addBogus = definePass({
      name: 'add-bogus',
      summary: 'b',
      run(model) {
        model.graph.createNode({ op: 'test.Bogus', inputs: [model.graph.inputs[0]!] });
      },
    });
    const env = testEnvironment(new PassRegistry([noop, addBogus]));
    const model = smallModel();
    model.graph.createNode({ op: 'test.FromFrontend', inputs: [model.graph.inputs[0]!], name: 'foreign' });
    await expect(runPipeline(model, 'noop,noop', { environment: env })).resolves.toMatchObject({ passesRun: 2 });
    const error = (await runPipeline(model, 'noop,add-bogus', { environment: env }).catch((e: unknown) => e)) as PassFailure;
    expect(error.passName).toBe('add-bogus');
    expect(error.diagnostics.map((d) => d.reason)).toEqual(["pass 'add-bogus' left the IR invalid (1 verifier error)", "unknown op 'test.Bogus'"]);
    await expect(runPipeline(model, 'noop', { environment: env, verifyEach: { strictInput: true } })).rejects.toThrow(/input model is invalid/);
  });

  it('writes a crash reproducer that replays to the same error', async () => {
    const directory = join(temp, 'crash');
    const reproducer = new CrashReproducerInstrumentation({ directory });
    const model = smallModel();
    const inputText = printModel(model);
    const error = (await runPipeline(model, 'insert-identity,explode', { environment, instrumentations: [reproducer] }).catch((e: unknown) => e)) as PassFailure;
    expect(error.passName).toBe('explode');
    expect(reproducer.lastReproducer).toBe(directory);
    expect(error.message).toContain(`note: a reproducer was written to ${directory}; replay it with: modelpass replay ${directory}`);
    expect(readdirSync(directory).sort()).toEqual(['README.md', 'error.txt', 'input.mpir', 'pipeline.txt', 'plugins.json', 'reproducer.json']);
    // The input of the pipeline run, not the IR after the first pass.
    expect(readFileSync(join(directory, 'input.mpir'), 'utf8')).toBe(inputText);
    expect(readFileSync(join(directory, 'pipeline.txt'), 'utf8')).toBe('insert-identity,explode{when=always}\n');
    expect(JSON.parse(readFileSync(join(directory, 'plugins.json'), 'utf8'))).toEqual([]);
    expect(readFileSync(join(directory, 'error.txt'), 'utf8')).toContain("pass 'explode' failed: kaboom");
    expect(readFileSync(join(directory, 'README.md'), 'utf8')).toContain(`modelpass replay ${directory}`);
    expect(JSON.parse(readFileSync(join(directory, 'reproducer.json'), 'utf8'))).toMatchObject({ format: 'modelpass-reproducer', failingPass: 'explode' });

    const replayed = (await replayReproducer(directory, { environment }).catch((e: unknown) => e)) as PassFailure;
    expect(replayed).toBeInstanceOf(PassFailure);
    expect(replayed.passName).toBe('explode');
    expect(replayed.message).toBe(error.message.split('\n  note: a reproducer')[0]);

    // A second failure does not overwrite the first reproducer.
    await runPipeline(smallModel(), 'explode', { environment, instrumentations: [reproducer] }).catch(() => {});
    expect(reproducer.lastReproducer).toBe(`${directory}-2`);
  });

  it("with on='crash', skips a pass's own diagnosed refusal but still writes for crashes and verifier failures", async () => {
    const directory = join(temp, 'crash-only');
    const reproducer = new CrashReproducerInstrumentation({ directory, on: 'crash' });
    const refused = (await runPipeline(smallModel(), 'noop,refuse', { environment, instrumentations: [reproducer] }).catch((e: unknown) => e)) as PassFailure;
    expect(refused.passName).toBe('refuse');
    expect(refused.message).toContain("cannot read teacher 'missing.onnx'");
    expect(refused.message).not.toContain('reproducer');
    expect(existsSync(directory)).toBe(false);

    await runPipeline(smallModel(), 'explode', { environment, instrumentations: [reproducer] }).catch(() => {});
    expect(reproducer.lastReproducer).toBe(directory);
    await runPipeline(smallModel(), 'break-order', { environment, instrumentations: [reproducer] }).catch(() => {});
    expect(reproducer.lastReproducer).toBe(`${directory}-2`);

    // The default still writes one for every failure.
    const always = new CrashReproducerInstrumentation({ directory: join(temp, 'always') });
    const error = (await runPipeline(smallModel(), 'refuse', { environment, instrumentations: [always] }).catch((e: unknown) => e)) as PassFailure;
    expect(error.message).toContain('a reproducer was written to');
  });

  it('writes a local reproducer holding only the failing pass and its input', async () => {
    const directory = join(temp, 'local');
    const reproducer = new CrashReproducerInstrumentation({ directory, scope: 'pass' });
    const model = smallModel();
    const error = (await runPipeline(model, 'insert-identity,noop,explode', { environment, instrumentations: [reproducer] }).catch((e: unknown) => e)) as PassFailure;
    expect(readFileSync(join(directory, 'pipeline.txt'), 'utf8')).toBe('explode{when=always}\n');
    expect(readFileSync(join(directory, 'input.mpir'), 'utf8')).toContain('test.Identity');
    await expect(replayReproducer(directory, { environment })).rejects.toThrow(error.message.split('\n  note: a reproducer')[0]!);
  });

  it('reproduces verify-each failures too, and says when a replay does not fail', async () => {
    const directory = join(temp, 'broken');
    const reproducer = new CrashReproducerInstrumentation({ directory });
    const error = (await runPipeline(smallModel(), 'break-order', { environment, instrumentations: [reproducer] }).catch((e: unknown) => e)) as ModelpassError;
    await expect(replayReproducer(directory, { environment })).rejects.toThrow(error.message.split('\n  note: a reproducer')[0]!);

    writeFileSync(join(directory, 'pipeline.txt'), 'noop\n');
    const replay = await replayReproducer(directory, { environment });
    expect(replay).toMatchObject({ reproduced: false, pipeline: 'noop' });

    const empty = join(temp, 'not-a-reproducer');
    mkdirSync(empty);
    await expect(replayReproducer(empty, { environment })).rejects.toThrow(`'${empty}' is not a modelpass reproducer: pipeline.txt is missing`);
    expect(existsSync(join(temp, 'broken-2'))).toBe(false);
  });
});
