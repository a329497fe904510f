import { describe, expect, it } from 'vitest';
import { definePlugin, PassEnvironment, passStep, PassManager, repeat, runPipeline, type PipelineInput } from '@modelpass/pass-manager';
import { ModelpassError, type Model } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { prunePass, smallModel, testEnvironment } from './fixtures.js';

/** The ModelpassError a call or promise gave (a TypeError or a success fails the test). */
async function refusal(run: () => unknown): Promise<ModelpassError> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  if (!ModelpassError.is(thrown)) throw new Error(`expected a ModelpassError, got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`);
  return thrown;
}

const manager = (): PassManager => new PassManager({ environment: testEnvironment() });

describe('PassManager.run refuses what is not a Model, naming what it got', () => {
  it('a path, with a hint to read the file first', async () => {
    const error = await refusal(() => manager().run('model.onnx' as unknown as Model, 'prune-magnitude'));
    expect(error.reason).toBe('PassManager.run takes a Model, not a path (string "model.onnx")');
    expect(error.diagnostics[0]!.hint).toContain('readOnnx(path)');
  });

  it('undefined and plain objects', async () => {
    expect((await refusal(() => manager().run(undefined as unknown as Model, 'prune-magnitude'))).diagnostics[0]!.actual).toBe('undefined');
    expect((await refusal(() => manager().run({} as Model, 'prune-magnitude'))).reason).toBe('PassManager.run takes a Model as its first argument');
  });

  it('a Model from another copy of @modelpass/ir (same shape, another class)', async () => {
    const foreign = { ...smallModel() } as Model;
    const error = await refusal(() => manager().run(foreign, 'prune-magnitude'));
    expect(error.reason).toContain("a Model made by another copy of '@modelpass/ir'");
    expect(error.diagnostics[0]!.hint).toContain('npm ls @modelpass/ir');
  });
});

describe('PassManager.run refuses what is not a pipeline', () => {
  const cases: [string, unknown, string][] = [
    ['a number', 123, 'PassManager.run takes a pipeline as its second argument'],
    ['null', null, 'PassManager.run takes a pipeline as its second argument'],
    ['a bare pass', prunePass, "the pipeline is a pass ('prune-magnitude'), not a pipeline"],
    ['a pass in the list', [prunePass], "pipeline steps[0] is a pass ('prune-magnitude'), not a pipeline step"],
    ['a name in the list', ['prune-magnitude'], 'pipeline steps[0] is text (string "prune-magnitude"), not a pipeline step'],
    ['a bad step inside an anchor', [passStep(prunePass), repeat(2, [passStep(prunePass), {} as never])], 'pipeline steps[1].steps[1] is not a pipeline step'],
  ];
  for (const [label, pipeline, reason] of cases) {
    it(label, async () => {
      expect((await refusal(() => manager().run(smallModel(), pipeline as PipelineInput))).reason).toBe(reason);
    });
  }

  it('a bare pass gets a hint that shows passStep', async () => {
    expect((await refusal(() => manager().run(smallModel(), [prunePass] as never))).diagnostics[0]!.hint).toContain('passStep(pruneMagnitude)');
  });
});

describe('options objects', () => {
  it('new PassManager refuses an unknown option, suggesting the close one', async () => {
    const error = await refusal(() => new PassManager({ enviroment: testEnvironment() } as never));
    expect(error.reason).toBe("new PassManager(options): unknown option 'enviroment' — did you mean 'environment'?");
    expect((await refusal(() => runPipeline(smallModel(), 'prune', { bogus: 1 } as never))).reason).toBe("new PassManager(options): unknown option 'bogus'");
    expect((await refusal(() => new PassManager('x' as never))).reason).toBe('new PassManager(options) takes an options object');
  });

  it('new PassManager refuses option values of the wrong kind, naming the option', async () => {
    const cases: [string, unknown, string][] = [
      ['environment', {}, 'a PassEnvironment'],
      ['instrumentations', {}, 'an array of instrumentations'],
      ['signal', 'x', 'an AbortSignal'],
      ['onDiagnostic', 5, 'a function (diagnostic) => void'],
      ['debug', 'yes', 'true, false or a function (message, pass) => void'],
      ['verifyEach', 'on', 'true, false or a VerifyEachOptions object'],
      ['maxPipelineNesting', -1, 'a whole number ≥ 1'],
    ];
    for (const [key, value, expected] of cases) {
      const error = await refusal(() => new PassManager({ [key]: value } as never));
      expect(error.reason).toBe(`new PassManager(options): wrong kind of value for option '${key}'`);
      expect(error.diagnostics[0]!.expected).toBe(expected);
    }
    expect(new PassManager({ environment: testEnvironment(), signal: new AbortController().signal, debug: false, verifyEach: { verifyInput: false } })).toBeInstanceOf(PassManager);
  });

  it('passStep refuses a name or non-object options', async () => {
    const byName = await refusal(() => passStep('prune-magnitude' as never));
    expect(byName.reason).toBe('passStep takes a pass made by definePass');
    expect(byName.diagnostics[0]!.hint).toContain("manager.run(model, 'prune-magnitude')");
    expect((await refusal(() => passStep(prunePass, 'x' as never))).reason).toBe("passStep for pass 'prune-magnitude': the options must be an object of camelCase option names");
  });

  it('PassEnvironment.use refuses a name (pointing at load) and undefined', async () => {
    const byName = await refusal(() => new PassEnvironment().use('modelpass-plugin-acme' as never));
    expect(byName.reason).toBe('PassEnvironment.use takes a plugin made by definePlugin (or what loadPlugin returned)');
    expect(byName.diagnostics[0]!.hint).toBe("to load a plugin by package name or path, await environment.load('modelpass-plugin-acme')");
    expect((await refusal(() => new PassEnvironment().use(undefined as never))).diagnostics[0]!.actual).toBe('undefined');
    const plugin = definePlugin({ name: 'p', version: '1.0.0', passManager: '*', passes: [] });
    expect(new PassEnvironment().use(plugin).hasPlugin('p')).toBe(true);
  });
});

describe('one pipeline at a time per model', () => {
  it('a second run started before the first is awaited is refused; the model is free again afterwards', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = definePass({ name: 'slow', summary: 'waits for the test', async run(_model, context) { await gate; return context.preserveAll(); } });
    const environment = testEnvironment();
    environment.passes.register([slow], 'test');
    const model = smallModel();
    const first = new PassManager({ environment }).run(model, 'slow');
    const error = await refusal(() => new PassManager({ environment }).run(model, 'prune-magnitude'));
    expect(error.reason).toBe('this Model is already being transformed by a pipeline run that has not finished');
    expect(error.diagnostics[0]!.code).toBe('pipeline/model-in-use');
    // Another model runs meanwhile.
    await expect(new PassManager({ environment }).run(smallModel(), 'prune-magnitude')).resolves.toMatchObject({ passesRun: 1 });
    release();
    await first;
    await expect(new PassManager({ environment }).run(model, 'prune-magnitude')).resolves.toMatchObject({ passesRun: 1 });
  });

  it('a failed run frees the model too', async () => {
    const model = smallModel();
    await refusal(() => manager().run(model, 'no-such-pass'));
    const failing = definePass({ name: 'fails', summary: 'throws', run() { throw new Error('boom'); } });
    const environment = testEnvironment();
    environment.passes.register([failing], 'test');
    await refusal(() => new PassManager({ environment }).run(model, 'fails'));
    await expect(manager().run(model, 'prune-magnitude')).resolves.toMatchObject({ passesRun: 1 });
  });
});

describe('context.report checks what a pass reports', () => {
  const reporting = (init: unknown) => definePass({ name: 'reports', summary: 'reports something', run(_model, context) { context.report(init as never); return context.preserveAll(); } });
  const runWith = async (init: unknown): Promise<ModelpassError> => {
    const environment = testEnvironment();
    environment.passes.register([reporting(init)], 'test');
    return refusal(() => new PassManager({ environment }).run(smallModel(), 'reports'));
  };

  it("a severity JavaScript allowed but the IR does not know ('note') names the pass", async () => {
    const error = await runWith({ severity: 'note', reason: 'x' });
    expect(error.message).toContain(`pass 'reports' reported severity string "note"`);
    expect(error.diagnostics[0]!.expected ?? (error.cause as ModelpassError).diagnostics[0]!.expected).toBe('one of error, warning, info');
  });

  it('no reason, or no diagnostic at all', async () => {
    expect((await runWith({ severity: 'warning' })).message).toContain(`pass 'reports' called context.report without a reason`);
    expect((await runWith('text')).message).toContain(`pass 'reports' called context.report without a diagnostic`);
  });

  it('a well-formed report still reaches the result', async () => {
    const environment = testEnvironment();
    environment.passes.register([reporting({ severity: 'info', reason: 'fine' })], 'test');
    const result = await new PassManager({ environment }).run(smallModel(), 'reports');
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['fine']);
  });
});

describe('option values given in code of a kind that prints like a right one', () => {
  const counting = definePass({ name: 'counting', summary: 'takes a count', options: { count: option.integer({ default: 1, min: 1 }) }, run: (_model, context) => context.preserveAll() });

  it('a bigint is said to be one (it printed as the integer it holds)', async () => {
    expect((await refusal(() => passStep(counting, { count: 2n }))).reason).toBe("option 'count' of pass 'counting' expects an integer ≥ 1, got the bigint 2n");
  });

  it('a function is said to be one', async () => {
    expect((await refusal(() => passStep(counting, { count: () => 2 }))).reason).toBe("option 'count' of pass 'counting' expects an integer ≥ 1, got a function");
  });
});
