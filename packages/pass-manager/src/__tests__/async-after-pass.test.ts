import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { PassManager, PassFailure, type PassInstrumentation } from '@modelpass/pass-manager';
import { smallModel, testEnvironment } from './fixtures.js';

describe('an afterPass hook that returns a promise', () => {
  it('is awaited before the next pass starts, and its rejection fails the pass it ran for', async () => {
    const events: string[] = [];
    const slow: PassInstrumentation = {
      name: 'slow-check',
      beforePass: (_model, pass) => void events.push(`before ${pass.index}`),
      afterPass: async (_model, pass) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`checked ${pass.index}`);
      },
    };
    const manager = new PassManager({ environment: testEnvironment(), instrumentations: [slow] });
    await manager.run(smallModel(), 'canonicalize,dce');
    expect(events).toEqual(['before 1', 'checked 1', 'before 2', 'checked 2']);

    const rejecting: PassInstrumentation = {
      afterPass: async (_model, pass) => {
        await Promise.resolve();
        if (pass.passName === 'dce') throw new ModelpassError({ reason: 'outputs moved' });
      },
    };
    const failing = new PassManager({ environment: testEnvironment(), instrumentations: [rejecting] });
    const error = await failing.run(smallModel(), 'canonicalize,dce').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PassFailure);
    expect((error as PassFailure).passName).toBe('dce');
    expect((error as PassFailure).message).toMatch(/pass 'dce' failed: outputs moved/);
  });
});
