import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import {
  definePass,
  fixedPoint,
  parsePipeline,
  passStep,
  printPipeline,
  repeat,
  type PassStep,
  type AnchorStep,
} from '@modelpass/pass-manager';
import { canonicalizePass, dcePass, prunePass, testRegistry } from './fixtures.js';

const registry = testRegistry();

function errorOf(text: string): ModelpassError {
  try {
    parsePipeline(text, registry);
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`'${text}' resolved`);
}

describe('pipeline resolution (phase 2)', () => {
  it('binds names to passes and types options by their specs', () => {
    const pipeline = parsePipeline('canonicalize,prune-magnitude{sparsity=0.25 scheme=channel layers=[conv1,"fc 2"] dry-run=true block-sizes=[4]},dce', registry);
    expect(pipeline.steps.map((s) => (s as PassStep).pass)).toEqual([canonicalizePass, prunePass, dcePass]);
    const prune = pipeline.steps[1] as PassStep;
    expect(prune.options).toEqual({ sparsity: 0.25, scheme: 'channel', layers: ['conv1', 'fc 2'], dryRun: true, blockSizes: [4] });
    expect(prune.owner.name).toBe('@modelpass/test');
    expect(printPipeline(pipeline)).toBe('canonicalize,prune-magnitude{sparsity=0.25 scheme=channel layers=[conv1,"fc 2"] block-sizes=[4] dry-run=true},dce');
  });

  it('prints with every default spelled out, and that text resolves to the same options', () => {
    const pipeline = parsePipeline('prune-magnitude{tag=x}', registry);
    const full = printPipeline(pipeline, { defaults: true });
    expect(full).toBe('prune-magnitude{sparsity=0.5 scheme=unstructured block-sizes=[1,2] dry-run=false tag=x}');
    const again = parsePipeline(full, registry);
    expect(printPipeline(again, { defaults: true })).toBe(full);
    expect(printPipeline(parsePipeline(printPipeline(pipeline), registry))).toBe(printPipeline(pipeline));
  });

  it('resolves the anchors repeat and fixed-point', () => {
    const pipeline = parsePipeline('repeat{times=3}(canonicalize,fixed-point(dce)),fixed-point{max-iterations=4}(dce)', registry);
    const outer = pipeline.steps[0] as AnchorStep;
    expect(outer.anchor.name).toBe('repeat');
    expect(outer.options).toEqual({ times: 3 });
    expect((outer.steps[1] as AnchorStep).anchor.name).toBe('fixed-point');
    expect(printPipeline(pipeline, { defaults: true })).toBe(
      'repeat{times=3}(canonicalize,fixed-point{max-iterations=10}(dce{aggressive=false})),fixed-point{max-iterations=4}(dce{aggressive=false})',
    );
  });

  it('reports an unknown pass at its column with the nearest name', () => {
    const error = errorOf('canonicalize,prun');
    expect(error.message.split('\n')[0]).toBe("unknown pass 'prun' at 1:14 — did you mean 'prune-magnitude'?");
    expect(error.location).toEqual({ line: 1, column: 14 });
    expect(error.diagnostics[0]!.hint).toBe("did you mean 'prune-magnitude'?");
    expect(errorOf('dce,canonicalise').message).toContain("did you mean 'canonicalize'?");
    expect(errorOf('zzzzzzzz').message).not.toContain('did you mean');
  });

  it('lists every pass of a family the unknown name begins, not one of them', () => {
    const family = testRegistry();
    for (const name of ['prune-nm', 'prune-channels']) family.register(definePass({ name, summary: name, run() {} }), '@modelpass/test');
    let error: ModelpassError | undefined;
    try {
      parsePipeline('prune{sparsity=0.5}', family);
    } catch (caught) {
      error = caught as ModelpassError;
    }
    expect(error?.message.split('\n')[0]).toBe("unknown pass 'prune' at 1:1 — did you mean one of 'prune-nm', 'prune-channels', 'prune-magnitude'?");
    expect(error?.diagnostics[0]!.hint).toBe("did you mean one of 'prune-nm', 'prune-channels', 'prune-magnitude'?");
    expect(errorOf('canonicalize,prun').message).toContain("did you mean 'prune-magnitude'?");
  });

  it('reports bad option values with the expected kind and range', () => {
    const error = errorOf('prune-magnitude{sparsity=abc}');
    expect(error.message.split('\n')[0]).toBe("option 'sparsity' of pass 'prune-magnitude' expects a number in [0, 1], got 'abc' at 1:26");
    expect(error.location?.column).toBe(26);
    expect(errorOf('prune-magnitude{sparsity=1.5}').message).toContain("expects a number in [0, 1], got '1.5'");
    expect(errorOf('prune-magnitude{dry-run=yes}').message).toContain("expects a boolean (true or false), got 'yes'");
    expect(errorOf('prune-magnitude{scheme=chanel}').message).toContain("expects one of unstructured, channel, got 'chanel' at 1:24 — did you mean 'channel'?");
    const listError = errorOf('prune-magnitude{block-sizes=[1,0]}');
    expect(listError.message).toContain("expects a list of integers ≥ 1, got '0'");
    expect(listError.location?.column).toBe(32);
    expect(errorOf('prune-magnitude{block-sizes=[1,2.5]}').message).toContain('integers');
    expect(errorOf('prune-magnitude{sparsity=[1]}').message).toContain('got a list [1]');
    expect(errorOf('repeat{times=0}(dce)').message).toContain("option 'times' of anchor 'repeat' expects an integer in [1, 1000], got '0'");
  });

  it('reports unknown and repeated options', () => {
    const error = errorOf('prune-magnitude{spasity=0.1}');
    expect(error.message).toContain("unknown option 'spasity' of pass 'prune-magnitude' at 1:17 — did you mean 'sparsity'?");
    expect(error.diagnostics[0]!.expected).toContain('sparsity');
    expect(errorOf('prune-magnitude{dryRun=true}').message).toContain("did you mean 'dry-run'?");
    expect(errorOf('canonicalize{x=1}').message).toContain("unknown option 'x' of pass 'canonicalize' at 1:14 (pass 'canonicalize' takes no options)");
    expect(errorOf('dce{aggressive=true aggressive=false}').message).toContain("option 'aggressive' of pass 'dce' is given twice (first at 1:5) at 1:21");
  });

  it('checks anchor structure', () => {
    expect(errorOf('repeat(dce)').message).toContain("anchor 'repeat' needs option 'times' at 1:1");
    expect(errorOf('dce,repeat{times=2}').message).toContain("anchor 'repeat' needs a nested pipeline in parentheses at 1:5");
    expect(errorOf('dce(canonicalize)').message).toContain("pass 'dce' does not take a nested pipeline");
    expect(errorOf('fixed-point(dce,repeat{times=1}(prun))').message).toContain("unknown pass 'prun' at 1:33");
  });

  it('builds pipelines in code with checked options', () => {
    const steps = [passStep(prunePass, { sparsity: 0.1, layers: ['a'] }), fixedPoint([passStep(dcePass)], { maxIterations: 3 }), repeat(2, [passStep(canonicalizePass)])];
    expect(printPipeline(steps)).toBe('prune-magnitude{sparsity=0.1 layers=[a]},fixed-point{max-iterations=3}(dce),repeat{times=2}(canonicalize)');
    expect(() => passStep(prunePass, { sparsity: 2 })).toThrow("option 'sparsity' of pass 'prune-magnitude' expects a number in [0, 1], got 2");
    expect(() => passStep(prunePass, { sparsty: 2 } as never)).toThrow("unknown option 'sparsty'");
    expect(() => repeat(0, [])).toThrow('expects an integer in [1, 1000]');
  });

  it('words errors of options given in code as pipeline text does: one statement, a suggestion, the fields kept', () => {
    const thrown = (body: () => unknown): ModelpassError => {
      try { body(); } catch (error) { return error as ModelpassError; }
      throw new Error('expected an error');
    };
    const bad = thrown(() => passStep(prunePass, { scheme: 'chanel' } as never));
    expect(bad.message).toBe("option 'scheme' of pass 'prune-magnitude' expects one of unstructured, channel, got 'chanel' — did you mean 'channel'?");
    expect(bad.diagnostics[0]).toMatchObject({ expected: 'one of unstructured, channel', actual: "'chanel'", code: 'pipeline/bad-option' });
    expect(thrown(() => passStep(prunePass, { sparsity: 2 })).message).toBe("option 'sparsity' of pass 'prune-magnitude' expects a number in [0, 1], got 2");
    const unknown = thrown(() => passStep(prunePass, { sparsty: 2 } as never));
    expect(unknown.message).toBe("unknown option 'sparsty' of pass 'prune-magnitude' — did you mean 'sparsity'?");
    expect(unknown.diagnostics[0]!.code).toBe('pipeline/unknown-option');
    expect(thrown(() => passStep(prunePass, { zzzzzzzz: 2 } as never)).message).toMatch(/^unknown option 'zzzzzzzz' of pass 'prune-magnitude' \(its options are sparsity, /);
  });
});
