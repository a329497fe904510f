import { createRequire } from 'node:module';
import { definePlugin } from '@modelpass/pass-manager';
import { fuseHardSwishPass } from './fuse-hardswish-pass.js';
import { activationPatterns } from './relu-patterns.js';

export { fuseHardSwishPass } from './fuse-hardswish-pass.js';
export { activationPatterns, dropRedundantRelu, dropReluBeforeClip } from './relu-patterns.js';
export { matchHardSwish, fuseHardSwish, findHardSwishCandidates, HARD_SWISH_OPSET, type HardSwishMatch } from './hard-swish.js';
export { isNonNegative, clipLowerBound } from './non-negative.js';

/**
 * This package's manifest (src/ and dist/ both sit one level below it): the plugin's version and the
 * pass-manager range it supports come from there, so the range the plugin checks at load time is the
 * peer-dependency range npm checks at install time, and a `changeset version` that moves the peer
 * range (a new pass-manager minor) moves this one too.
 */
const manifest = createRequire(import.meta.url)('../package.json') as { version: string; peerDependencies: Record<string, string> };

/**
 * The plugin: a plain value, registered by whoever uses it (`environment.use(plugin)`, or the CLI's
 * `--plugin @modelpass-examples/plugin-activations`); importing this module registers nothing.
 */
const plugin = definePlugin({
  name: '@modelpass-examples/plugin-activations',
  version: manifest.version,
  passManager: manifest.peerDependencies['@modelpass/pass-manager']!,
  description: 'Redundant-Relu clean-ups for canonicalize and a fuse-hardswish pass',
  passes: [fuseHardSwishPass],
  patterns: activationPatterns,
});

export default plugin;
