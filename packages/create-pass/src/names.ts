import { BUILTIN_PASSES, RESERVED_ANCHORS } from './builtin-pass-names.js';
import { ScaffoldError } from './scaffold-error.js';

const PASS_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** `strip-identity` → `stripIdentity`. */
export function camelCase(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function checkPassName(name: string): void {
  if (!PASS_NAME.test(name)) {
    throw new ScaffoldError(`'${name}' is not a pass name`, {
      expected: 'kebab-case: lowercase letters and digits in dash-separated words, starting with a letter (e.g. strip-identity)',
    });
  }
  const owner = BUILTIN_PASSES.get(name);
  if (owner !== undefined) {
    throw new ScaffoldError(`'${name}' is the name of a built-in pass (from ${owner}): modelpass would refuse to load a plugin with a second '${name}' ("registered twice")`, {
      hint: `pick another name, e.g. my-${name}`,
    });
  }
  if (RESERVED_ANCHORS.includes(name)) {
    throw new ScaffoldError(`'${name}' is a pipeline anchor (${RESERVED_ANCHORS.join(', ')}), reserved in every pass registry`, { hint: `pick another name, e.g. my-${name}` });
  }
}

export function checkPackageName(name: string): void {
  if (!PACKAGE_NAME.test(name) || name.length > 214) {
    throw new ScaffoldError(`'${name}' is not an npm package name`, { expected: 'lowercase, e.g. modelpass-plugin-x or @scope/x' });
  }
}

/** The npm package name a pass gets by default: `modelpass-plugin-<name>`. */
export function defaultPackageName(passName: string): string {
  return passName.startsWith('modelpass-plugin-') ? passName : `modelpass-plugin-${passName}`;
}
