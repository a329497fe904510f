/**
 * The error every file-system, process or module-loading function throws in the browser page:
 * the page works on bytes in memory, so a path that needs a file (external data, a plugin, an IR
 * dump) stops here with a message naming the function instead of failing somewhere obscure.
 */
import { ModelpassError } from '@modelpass/ir';

export function unavailable(name: string): never {
  throw new ModelpassError({
    reason: `${name} is not available in the browser page: it works on the bytes of the dropped file only`,
    hint: 'models with external data files, plugins and IR dumps need the CLI (npx modelpass convert)',
    source: '@modelpass/web',
  });
}

/** A function that throws `unavailable(name)` when called. */
export function unavailableFunction(name: string): (...args: unknown[]) => never {
  return () => unavailable(name);
}
