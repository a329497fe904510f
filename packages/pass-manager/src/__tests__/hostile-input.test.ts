import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRangeStorage, GraphBuilder, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import {
  CrashReproducerInstrumentation,
  definePass,
  parsePipeline,
  PassFailure,
  passStep,
  PassManager,
  repeat,
  replayReproducer,
  runPipeline,
  type PipelineStep,
} from '@modelpass/pass-manager';
import { prunePass, smallModel, testEnvironment, testRegistry } from './fixtures.js';

const temp = mkdtempSync(join(tmpdir(), 'pm-hostile-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function thrown(action: () => unknown): ModelpassError {
  try {
    action();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError');
}

describe('pass options named like Object.prototype members', () => {
  for (const key of ['constructor', '__proto__', 'to-string', 'has-own-property', 'value-of']) {
    it(`'${key}' in pipeline text is an unknown option at its column`, () => {
      const text = `prune-magnitude{${key}=1}`;
      const error = thrown(() => parsePipeline(text, testRegistry()));
      expect(error.reason).toBe(`unknown option '${key}' of pass 'prune-magnitude'`);
      expect(error.location).toEqual({ line: 1, column: 'prune-magnitude{'.length + 1 });
    });
  }

  it("'constructor' and '__proto__' given in code are unknown options", () => {
    expect(thrown(() => passStep(prunePass, { constructor: 1 } as never)).reason).toBe("unknown option 'constructor' of pass 'prune-magnitude'");
    const proto = JSON.parse('{"__proto__": {"sparsity": 2}}') as Record<string, unknown>;
    expect(thrown(() => passStep(prunePass, proto as never)).reason).toBe("unknown option '__proto__' of pass 'prune-magnitude'");
  });
});

describe('deeply nested pipelines', () => {
  const nestedText = (depth: number) => 'repeat{times=1}('.repeat(depth) + 'canonicalize' + ')'.repeat(depth);

  it('2000 levels of pipeline text are a located error, not a stack overflow', () => {
    const text = nestedText(2000);
    const error = thrown(() => parsePipeline(text, testRegistry()));
    expect(error.reason).toBe('pipelines nested more than 32 levels deep');
    expect(error.diagnostics[0]!.code).toBe('pipeline/too-deep');
    // The 33rd '(' is the one too many.
    expect(error.location).toEqual({ line: 1, column: 33 * 'repeat{times=1}('.length });
  });

  it('the limit is configurable, and holds for pipelines built in code', async () => {
    expect(parsePipeline(nestedText(32), testRegistry()).steps).toHaveLength(1);
    expect(parsePipeline(nestedText(100), testRegistry(), { maxNesting: 100 }).steps).toHaveLength(1);
    let steps: PipelineStep[] = [passStep(prunePass)];
    for (let i = 0; i < 2000; i++) steps = [repeat(1, steps)];
    const environment = testEnvironment();
    const error = (await runPipeline(smallModel(), steps, { environment }).catch((e: unknown) => e)) as ModelpassError;
    expect(ModelpassError.is(error)).toBe(true);
    expect(error.reason).toBe('pipeline anchors nest more than 32 levels deep');
    await expect(runPipeline(smallModel(), nestedText(40), { environment, maxPipelineNesting: 40 })).resolves.toMatchObject({ passesRun: 1 });
  });
});

describe('passes whose promise never settles', () => {
  it('fail after passTimeoutMs, naming the pass', async () => {
    const hang = definePass({ name: 'hang', summary: 'never settles', run: () => new Promise<void>(() => {}) });
    const environment = testEnvironment(testRegistry().register(hang));
    const manager = new PassManager({ environment, passTimeoutMs: 50 });
    const error = (await manager.run(smallModel(), [passStep(hang)]).catch((e: unknown) => e)) as PassFailure;
    expect(error).toBeInstanceOf(PassFailure);
    expect(error.passName).toBe('hang');
    expect(error.reason).toBe("pass 'hang' failed: it did not finish within 50 ms");
    expect(() => new PassManager({ passTimeoutMs: -1 })).toThrow(/passTimeoutMs must be a positive number/);
  });

  it('make the process fail with exit code 1 and a message naming plugin and pass when the event loop empties (real child process)', () => {
    const ir = fileURLToPath(new URL('../../../ir/dist/index.js', import.meta.url));
    const pm = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      import { GraphBuilder, tensorType } from ${JSON.stringify(ir)};
      import { definePass, definePlugin, PassEnvironment, runPipeline } from ${JSON.stringify(pm)};
      const hang = definePass({ name: 'hang', summary: 'awaits a promise nobody resolves', async run() { await new Promise(() => {}); } });
      const plugin = definePlugin({ name: 'hangs', version: '1.2.3', passManager: '*', passes: [hang] });
      const environment = new PassEnvironment();
      environment.use(plugin);
      const b = new GraphBuilder();
      b.output(b.input('x', tensorType('float32', [1])));
      runPipeline(b.model(), 'hang', { environment, verifyEach: false }).then(
        () => console.log('finished'),
        (error) => { console.error(error.message); process.exitCode = 1; },
      );
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(child.status).toBe(1);
    expect(child.stdout).toBe('');
    expect(child.stderr).toContain(
      "pass 'hang' from plugin 'hangs'@1.2.3 failed: the promise it returned never settles: the event loop emptied while it was pending",
    );
  });
});

describe('crash reproducers are self-contained', () => {
  it('copy file-backed weights next to input.mpir, so the folder replays after it moves and the source is gone', async () => {
    const source = join(temp, 'source');
    mkdirSync(source);
    const weightsPath = join(source, 'model.weights');
    const weights = new Float32Array(3000).map((_, i) => i / 7);
    writeFileSync(weightsPath, Buffer.concat([Buffer.alloc(100, 1), Buffer.from(weights.buffer)]));
    writeFileSync(join(source, 'small.weights'), Buffer.from(new Float32Array([5, 6]).buffer));
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [3000]));
    const w = b.constant(Tensor.fromStorage('float32', [3000], new FileRangeStorage(weightsPath, 100, 12000)), 'w');
    const again = b.constant(Tensor.fromStorage('float32', [3000], new FileRangeStorage(weightsPath, 100, 12000)), 'again');
    const small = b.constant(Tensor.fromStorage('float32', [2], new FileRangeStorage(join(source, 'small.weights'), 0, 8)), 'small');
    b.output(b.op1('test.Relu', [x]), w, again, small);
    const model = b.model({ test: 1 });

    const explode = definePass({
      name: 'explode',
      summary: 'fails when the weights are what they were',
      run(m) {
        const bytes = m.graph.getValue('w')!.constant!.bytes();
        throw new Error(`kaboom at ${new Float32Array(bytes.slice().buffer)[2999]}`);
      },
    });
    const environment = testEnvironment(testRegistry().register(explode));
    const directory = join(temp, 'crash');
    const reproducer = new CrashReproducerInstrumentation({ directory });
    const manager = new PassManager({ environment, instrumentations: [reproducer] });
    const error = (await manager.run(model, [passStep(explode)]).catch((e: unknown) => e)) as PassFailure;
    expect(error.reason).toBe(`pass 'explode' failed: kaboom at ${Math.fround(2999 / 7)}`);
    expect(readdirSync(directory)).toContain('weights.bin');
    const input = readFileSync(join(directory, 'input.mpir'), 'utf8');
    expect(input).toContain('const %w = tensor<float32[3000]> file("weights.bin", offset=0, length=12000)');
    expect(input).toContain('const %again = tensor<float32[3000]> file("weights.bin", offset=0, length=12000)');
    expect(input).toContain('const %small = tensor<float32[2]> [5, 6]');
    expect(input).not.toContain(source);
    expect(readdirSync(temp).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const moved = join(temp, 'sent-elsewhere');
    renameSync(directory, moved);
    rmSync(source, { recursive: true });
    const replayed = (await replayReproducer(moved, { environment }).catch((e: unknown) => e)) as PassFailure;
    expect(replayed).toBeInstanceOf(PassFailure);
    expect(replayed.reason).toBe(error.reason);
  });

  it('refuse an input.mpir that reads outside the reproducer folder (a reproducer is data from someone else)', async () => {
    const directory = join(temp, 'hostile-reproducer');
    mkdirSync(directory);
    writeFileSync(join(directory, 'pipeline.txt'), 'canonicalize\n');
    writeFileSync(join(directory, 'input.mpir'), 'graph @main() {\n  const %w = tensor<uint8[4]> file("/etc/hostname", offset=0, length=4)\n  return %w\n}\n');
    const error = (await replayReproducer(directory, { environment: testEnvironment() }).catch((e: unknown) => e)) as ModelpassError;
    expect(ModelpassError.is(error)).toBe(true);
    expect(error.reason).toBe("file(...) reference '/etc/hostname' lies outside the folders this IR may read");
    expect(error.location).toMatchObject({ file: join(directory, 'input.mpir'), line: 2 });
  });
});
