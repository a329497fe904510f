import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { definePass, describePasses, option, PassRegistry } from '@modelpass/pass-manager';
import { canonicalizePass, prunePass, testRegistry } from './fixtures.js';

describe('PassRegistry', () => {
  it('looks passes up and lists them sorted', () => {
    const registry = testRegistry();
    expect(registry.get('dce')?.name).toBe('dce');
    expect(registry.has('nope')).toBe(false);
    expect(registry.names()).toEqual(['canonicalize', 'dce', 'prune-magnitude']);
    expect(registry.ownerOf('dce')).toEqual({ name: '@modelpass/test' });
    expect(registry.suggest('canon')).toBe('canonicalize');
  });

  it('rejects a name registered twice, naming both owners', () => {
    const registry = new PassRegistry([canonicalizePass], '@modelpass/transforms');
    const clash = definePass({ name: 'canonicalize', summary: 'other', run() {} });
    expect(() => registry.register(clash, { name: 'my-plugin', plugin: { name: 'my-plugin', version: '1.2.3' } })).toThrow(
      "pass 'canonicalize' is registered twice: by '@modelpass/transforms' and by plugin 'my-plugin'@1.2.3",
    );
  });

  it('reserves the anchor names and rejects bad specs and non-passes', () => {
    const registry = new PassRegistry();
    expect(() => registry.register(definePass({ name: 'repeat', summary: '', run() {} }))).toThrow(/reserved/);
    const badDefault = definePass({ name: 'bad', summary: '', options: { level: option.integer({ default: 7, min: 0, max: 3 }) }, run() {} });
    expect(() => registry.register(badDefault)).toThrow("the default of option 'level' expects an integer in [0, 3], got 7");
    expect(() => registry.register({ name: 'x' } as never, 'someone')).toThrow(ModelpassError);
    expect(registry.size).toBe(0);
  });

  it('checks a pass again in every registry until it passes, and a pass-like object that is not frozen every time', () => {
    const badDefault = definePass({ name: 'bad', summary: '', options: { level: option.integer({ default: 7, min: 0, max: 3 }) }, run() {} });
    expect(() => new PassRegistry().register(badDefault)).toThrow(/the default of option 'level'/);
    expect(() => new PassRegistry().register(badDefault)).toThrow(/the default of option 'level'/);
    const good = definePass({ name: 'good', summary: '', options: { level: option.integer({ default: 1, min: 0, max: 3 }) }, run() {} });
    expect(new PassRegistry([good]).clone().get('good')).toBe(good);
    // Not made by definePass (not frozen): its specs may have changed since, so they are checked again.
    const handMade = { ...good, options: { level: { kind: 'number', integer: true, default: 1, min: 0, max: 3 } } } as typeof good;
    new PassRegistry().register(handMade);
    (handMade.options as { level: { default: number } }).level.default = 9;
    expect(() => new PassRegistry().register(handMade)).toThrow("the default of option 'level' expects an integer in [0, 3], got 9");
  });

  it('describes passes as plain JSON with kebab-case options', () => {
    const registry = testRegistry();
    registry.register(definePass({ name: 'from-plugin', summary: 's', run() {} }), { name: 'p', plugin: { name: 'p', version: '1.0.0' } });
    const described = describePasses(registry);
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
    const prune = described.find((d) => d.name === 'prune-magnitude')!;
    expect(prune).toEqual({
      name: 'prune-magnitude',
      summary: prunePass.summary,
      description: 'Test stand-in for the real pruning pass.',
      options: [
        { name: 'sparsity', kind: 'number', min: 0, max: 1, default: 0.5, help: 'fraction of weights to zero' },
        { name: 'scheme', kind: 'enum', values: ['unstructured', 'channel'], default: 'unstructured' },
        { name: 'layers', kind: 'list', element: { kind: 'string' }, help: 'layer names' },
        { name: 'block-sizes', kind: 'list', element: { kind: 'number', min: 1, integer: true }, default: [1, 2] },
        { name: 'dry-run', kind: 'boolean', default: false },
        { name: 'tag', kind: 'string' },
      ],
      statistics: ['weights-pruned'],
      owner: '@modelpass/test',
    });
    expect(described.find((d) => d.name === 'from-plugin')).toMatchObject({ owner: 'p', plugin: 'p' });
  });
});
