import { definePlugin } from '@modelpass/pass-manager';
import { fuseHardSwishPass } from './fuse-hardswish-pass.js';
import { activationPatterns } from './relu-patterns.js';

export { fuseHardSwishPass } from './fuse-hardswish-pass.js';
export { activationPatterns, dropRedundantRelu, dropReluBeforeClip } from './relu-patterns.js';
export { matchHardSwish, fuseHardSwish, findHardSwishCandidates, HARD_SWISH_OPSET, type HardSwishMatch } from './hard-swish.js';
export { isNonNegative, clipLowerBound } from './non-negative.js';

/**
 * The plugin: a plain value, registered by whoever uses it (`environment.use(plugin)`, or the CLI's
 * `--plugin @modelpass-examples/plugin-activations`); importing this module registers nothing.
 */
const plugin = definePlugin({
  name: '@modelpass-examples/plugin-activations',
  version: '0.1.0',
  passManager: '^0.1.0',
  description: 'Redundant-Relu clean-ups for canonicalize and a fuse-hardswish pass',
  passes: [fuseHardSwishPass],
  patterns: activationPatterns,
});

export default plugin;
