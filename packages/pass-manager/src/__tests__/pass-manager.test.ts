import { describe, expect, it } from 'vitest';
import { ModelpassError, type Model } from '@modelpass/ir';
import {
  defineAnalysis,
  definePass,
  option,
  PassFailure,
  PassManager,
  PassRegistry,
  passStep,
  runPipeline,
  type PassInstrumentation,
} from '@modelpass/pass-manager';
import { smallModel, testEnvironment, testRegistry } from './fixtures.js';

function counterPass(name: string) {
  // Decrements metadata 'count' by one per run until it reaches 0; reports no change at 0.
  return definePass({
    name,
    summary: 'count down',
    statistics: ['decrements'],
    run(model, context) {
      const count = Number(model.metadata.get('count') ?? '0');
      if (count <= 0) return context.preserveAll();
      model.metadata.set('count', String(count - 1));
      context.statistic('decrements');
      return context.preserve(['shapes']);
    },
  });
}

describe('PassManager', () => {
  it('runs sync and async passes in order with defaults filled in', async () => {
    const seen: string[] = [];
    const sync = definePass({
      name: 'sync-pass',
      summary: 's',
      options: { level: option.integer({ default: 2 }), label: option.string({}) },
      run(_model, context) {
        seen.push(`sync level=${context.options.level} label=${context.options.label} name=${context.passName}`);
      },
    });
    const asyncPass = definePass({
      name: 'async-pass',
      summary: 'a',
      async run(_model, context) {
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`async aborted=${context.signal.aborted}`);
        return context.preserveAll();
      },
    });
    const environment = testEnvironment(new PassRegistry([sync, asyncPass]));
    const result = await runPipeline(smallModel(), 'sync-pass{label=x},async-pass,sync-pass{level=5}', { environment });
    expect(seen).toEqual(['sync level=2 label=x name=sync-pass', 'async aborted=false', 'sync level=5 label=undefined name=sync-pass']);
    expect(result).toMatchObject({ changed: true, passesRun: 3, passesSkipped: 0, diagnostics: [] });
  });

  it('runs pipelines built in code, and reports no change when every pass preserves all', async () => {
    const registry = testRegistry();
    const manager = new PassManager({ environment: testEnvironment(registry) });
    const result = await manager.run(smallModel(), [passStep(registry.get('canonicalize')!)]);
    expect(result.changed).toBe(false);
  });

  it('caches analyses and recomputes exactly those a pass did not preserve', async () => {
    let computations = 0;
    const nodeCount = defineAnalysis({
      name: 'node-count',
      compute(model: Model) {
        computations++;
        return model.graph.nodeCount;
      },
    });
    defineAnalysis({ name: 'other', compute: () => 0 });
    const log: string[] = [];
    const make = (name: string, preserve: 'all' | 'none' | 'node-count' | 'other') =>
      definePass({
        name,
        summary: name,
        run(model, context) {
          log.push(`${name}:${context.analysis(nodeCount)}:${computations}`);
          if (preserve === 'all') return context.preserveAll();
          if (preserve === 'none') return context.preserveNone();
          return context.preserve([preserve]);
        },
      });
    const passes = [make('keeps', 'node-count'), make('keeps-all', 'all'), make('drops', 'none'), make('drops-other', 'other'), make('last', 'all')];
    await runPipeline(smallModel(), 'keeps,keeps-all,drops,drops-other,last', { environment: testEnvironment(new PassRegistry(passes)) });
    // computed by 'keeps'; cached through 'keeps-all' and 'drops'; recomputed after 'drops' and after 'drops-other'.
    expect(log).toEqual(['keeps:2:1', 'keeps-all:2:1', 'drops:2:1', 'drops-other:2:2', 'last:2:3']);
  });

  it('repeats a nested pipeline and runs fixed-point until nothing changes', async () => {
    const environment = testEnvironment(new PassRegistry([counterPass('count-down'), counterPass('count-down-2')]));
    const model = smallModel();
    model.metadata.set('count', '10');
    const repeated = await runPipeline(model, 'repeat{times=3}(count-down,count-down-2)', { environment });
    expect(model.metadata.get('count')).toBe('4');
    expect(repeated.passesRun).toBe(6);

    const runs: string[] = [];
    const tracer: PassInstrumentation = { beforePass: (_m, info) => void runs.push(`${info.passName}@${info.nesting.join('/')}`) };
    const converged = await runPipeline(model, 'fixed-point{max-iterations=10}(count-down)', { environment, instrumentations: [tracer] });
    expect(model.metadata.get('count')).toBe('0');
    // 4 changing runs + 1 run that changes nothing
    expect(runs).toEqual([1, 2, 3, 4, 5].map((i) => `count-down@fixed-point#${i}`));
    expect(converged.changed).toBe(true);
    expect(converged.diagnostics).toEqual([]);

    const idle = await runPipeline(model, 'fixed-point(count-down)', { environment });
    expect(idle).toMatchObject({ changed: false, passesRun: 1 });
  });

  it('warns when fixed-point hits its bound', async () => {
    const environment = testEnvironment(new PassRegistry([counterPass('count-down')]));
    const model = smallModel();
    model.metadata.set('count', '100');
    const streamed: string[] = [];
    const result = await runPipeline(model, 'fixed-point{max-iterations=3}(count-down)', { environment, onDiagnostic: (d) => streamed.push(d.reason) });
    expect(model.metadata.get('count')).toBe('97');
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'pipeline/no-fixed-point' });
    expect(result.diagnostics[0]!.reason).toBe("fixed-point did not converge: the nested pipeline 'count-down' still changed the model in iteration 3 of 3");
    expect(streamed).toEqual([result.diagnostics[0]!.reason]);
  });

  it('gives passes statistics, diagnostics and a debug log', async () => {
    const debugLines: string[] = [];
    const pass = definePass({
      name: 'chatty',
      summary: 'c',
      statistics: ['things'],
      run(_model, context) {
        context.statistic('things', 3);
        context.statistic('things');
        context.debug('hello');
        context.report({ reason: 'look at this', location: { node: 'relu' } });
        return context.preserveAll();
      },
    });
    const outcomes: number[] = [];
    const result = await runPipeline(smallModel(), 'chatty', {
      environment: testEnvironment(new PassRegistry([pass], 'me')),
      debug: (message, info) => debugLines.push(`${info.passName}: ${message}`),
      instrumentations: [{ afterPass: (_m, _i, outcome) => void outcomes.push(outcome.statistics.get('things')!) }],
    });
    expect(outcomes).toEqual([4]);
    expect(debugLines).toEqual(['chatty: hello']);
    expect(result.diagnostics).toEqual([
      { severity: 'warning', source: 'me', reason: 'look at this', location: { node: 'relu' }, notes: ["reported by pass 'chatty'"] },
    ]);
    const undeclared = definePass({ name: 'undeclared', summary: 'u', run: (_m, c) => c.statistic('nope') });
    await expect(runPipeline(smallModel(), 'undeclared', { environment: testEnvironment(new PassRegistry([undeclared])) })).rejects.toThrow(
      "pass 'undeclared' failed: pass 'undeclared' reports statistic 'nope', which it does not declare",
    );
  });

  it('wraps errors thrown by passes with the pass name, keeping the cause and location', async () => {
    const boom = new RangeError('index out of range');
    const throwing = definePass({ name: 'throwing', summary: 't', run() { throw boom; } });
    const located = definePass({
      name: 'located',
      summary: 'l',
      run(model) {
        throw model.graph.nodeList()[0]!.error('weights are missing', { hint: 'load them' });
      },
    });
    const weird = definePass({ name: 'weird', summary: 'w', run: () => ({ nope: true }) as never });
    const environment = testEnvironment(new PassRegistry([throwing, located, weird]));
    const failures: string[] = [];
    const error = await runPipeline(smallModel(), 'throwing', { environment, instrumentations: [{ afterPassFailed: (_m, info, e) => void failures.push(`${info.passName}: ${e.reason}`) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PassFailure);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as PassFailure).message).toBe("pass 'throwing' failed: index out of range\n  note: thrown as RangeError");
    expect((error as PassFailure).cause).toBe(boom);
    expect((error as PassFailure).passName).toBe('throwing');
    expect(failures).toEqual(["throwing: pass 'throwing' failed: index out of range"]);

    const locatedError = (await runPipeline(smallModel(), 'located', { environment }).catch((e: unknown) => e)) as PassFailure;
    expect(locatedError.reason).toBe("pass 'located' failed: weights are missing");
    expect(locatedError.location).toMatchObject({ node: 'relu', op: 'test.Relu' });
    expect(locatedError.diagnostics[0]!.hint).toBe('load them');

    await expect(runPipeline(smallModel(), 'weird', { environment })).rejects.toThrow('returned something that is not a set of preserved analyses');
  });

  it('skips passes a shouldRun hook rejects and stops when cancelled', async () => {
    const ran: string[] = [];
    const pass = (name: string) => definePass({ name, summary: name, run: () => void ran.push(name) });
    const environment = testEnvironment(new PassRegistry([pass('a'), pass('b'), pass('c')]));
    const result = await runPipeline(smallModel(), 'a,b,c', { environment, instrumentations: [{ shouldRun: (_m, info) => info.passName !== 'b' }] });
    expect(ran).toEqual(['a', 'c']);
    expect(result).toMatchObject({ passesRun: 2, passesSkipped: 1 });

    ran.length = 0;
    const controller = new AbortController();
    const stopper = definePass({ name: 'stopper', summary: 's', run: () => controller.abort(new Error('user pressed ^C')) });
    environment.passes.register(stopper);
    const error = (await runPipeline(smallModel(), 'a,stopper,b', { environment, signal: controller.signal }).catch((e: unknown) => e)) as ModelpassError;
    expect(ran).toEqual(['a']);
    expect(error.reason).toBe("pipeline cancelled before pass 'b'");

    // Cancelled during the last pass, which finishes anyway: the run fails instead of returning a result.
    const late = new AbortController();
    const lateStopper = definePass({ name: 'late-stopper', summary: 's', run: () => late.abort(new Error('user pressed ^C')) });
    environment.passes.register(lateStopper);
    ran.length = 0;
    const lateError = (await runPipeline(smallModel(), 'a,late-stopper', { environment, signal: late.signal }).then(() => undefined, (e: unknown) => e)) as ModelpassError | undefined;
    expect(ran).toEqual(['a']);
    expect(lateError?.reason).toBe('pipeline cancelled during its last pass');
  });

  it('resolves text against its environment and rejects unknown passes before running anything', async () => {
    const ran: string[] = [];
    const pass = definePass({ name: 'a', summary: 'a', run: () => void ran.push('a') });
    await expect(runPipeline(smallModel(), 'a,b', { environment: testEnvironment(new PassRegistry([pass])) })).rejects.toThrow("unknown pass 'b' at 1:3");
    expect(ran).toEqual([]);
  });
});

describe('the run info of a pipeline', () => {
  it('gives instrumentations the canonical text with every option spelled out, the same when read twice', async () => {
    const texts: string[] = [];
    const reader: PassInstrumentation = {
      name: 'reader',
      beforePipeline: (_model, run) => texts.push(run.text),
      afterPipeline: (_model, run) => texts.push(run.text, JSON.parse(JSON.stringify({ text: run.text })).text),
    };
    await new PassManager({ environment: testEnvironment(), verifyEach: false, instrumentations: [reader] }).run(smallModel(), 'prune-magnitude{sparsity=0.25},dce');
    const expected = 'prune-magnitude{sparsity=0.25 scheme=unstructured block-sizes=[1,2] dry-run=false},dce{aggressive=false}';
    expect(texts).toEqual([expected, expected, expected]);
  });
});
