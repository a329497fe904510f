/**
 * `repeat{times=N}` and `fixed-point{max-iterations=N}` take at most MAX_ANCHOR_ROUNDS rounds
 * (`repeat{times=1e9}(dce)` used to be accepted and run for hours), and repeat ends after a round
 * that changed nothing: the same passes on the same model would change nothing again.
 */
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { definePass, fixedPoint, MAX_ANCHOR_ROUNDS, parsePipeline, PassRegistry, passStep, repeat, runPipeline, type PassInstrumentation } from '@modelpass/pass-manager';
import { smallModel, testEnvironment, testRegistry } from './fixtures.js';

function errorOf(text: string): ModelpassError {
  try {
    parsePipeline(text, testRegistry());
  } catch (error) {
    return error as ModelpassError;
  }
  throw new Error(`'${text}' parsed`);
}

/** Decrements metadata 'count' once per run; reports no change at 0. */
const countDown = definePass({
  name: 'count-down',
  summary: 'count down',
  run(model, context) {
    const count = Number(model.metadata.get('count') ?? '0');
    if (count <= 0) return context.preserveAll();
    model.metadata.set('count', String(count - 1));
    return context.preserveNone();
  },
});

/** Changes nothing but never says so (returns nothing): every round counts as a change. */
const silent = definePass({ name: 'silent', summary: 'says nothing', run() {} });

function tracer(runs: string[]): PassInstrumentation {
  return { beforePass: (_model, info) => void runs.push(`${info.passName}@${info.nesting.join('/')}`) };
}

describe('anchor round limits', () => {
  it(`refuses more than ${MAX_ANCHOR_ROUNDS} rounds, naming the option, the value and the limit`, () => {
    expect(MAX_ANCHOR_ROUNDS).toBe(1000);
    const huge = errorOf('repeat{times=1e9}(dce)');
    expect(huge).toBeInstanceOf(ModelpassError);
    expect(huge.message).toContain("option 'times' of anchor 'repeat' expects an integer in [1, 1000], got '1e9' at 1:14");
    expect(errorOf('fixed-point{max-iterations=1001}(dce)').message).toContain("option 'max-iterations' of anchor 'fixed-point' expects an integer in [1, 1000], got '1001'");
    expect(() => repeat(1001, [])).toThrow("option 'times' of anchor 'repeat' expects an integer in [1, 1000], got 1001");
    expect(() => fixedPoint([], { maxIterations: 1e9 })).toThrow('expects an integer in [1, 1000]');
    expect(() => parsePipeline('repeat{times=1000}(dce),fixed-point{max-iterations=1000}(dce)', testRegistry())).not.toThrow();
  });

  it('ends repeat after the first round that changes nothing', async () => {
    const environment = testEnvironment(new PassRegistry([countDown, silent]));
    const model = smallModel();
    model.metadata.set('count', '2');
    const runs: string[] = [];
    const result = await runPipeline(model, 'repeat{times=1000}(count-down)', { environment, instrumentations: [tracer(runs)] });
    // two changing rounds, then one that changes nothing ends it
    expect(runs).toEqual(['count-down@repeat#1', 'count-down@repeat#2', 'count-down@repeat#3']);
    expect(result.changed).toBe(true);
    expect(model.metadata.get('count')).toBe('0');

    const idle: string[] = [];
    const unchanged = await runPipeline(model, 'repeat{times=1000}(count-down)', { environment, instrumentations: [tracer(idle)] });
    expect(idle).toEqual(['count-down@repeat#1']);
    expect(unchanged.changed).toBe(false);
  });

  it('runs every round when a pass in the round reports a change (or nothing)', async () => {
    const environment = testEnvironment(new PassRegistry([countDown, silent]));
    const model = smallModel();
    const runs: string[] = [];
    await runPipeline(model, 'repeat{times=3}(count-down,silent)', { environment, instrumentations: [tracer(runs)] });
    expect(runs.filter((r) => r.startsWith('silent'))).toEqual(['silent@repeat#1', 'silent@repeat#2', 'silent@repeat#3']);
    await expect(runPipeline(model, [repeat(2, [passStep(countDown)])], { environment })).resolves.toMatchObject({ passesRun: 1 });
  });
});
