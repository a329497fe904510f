/**
 * `node:module` in the browser page. The core reads one package.json at load time: pass-manager's,
 * for its version (plugins' `passManager` ranges are checked against it). The page build puts that
 * package.json's name and version here (`__MODELPASS_PASS_MANAGER_PACKAGE__`); anything else a
 * `require` asks for throws.
 */
import { unavailable, unavailableFunction } from './unavailable.js';

declare const __MODELPASS_PASS_MANAGER_PACKAGE__: { readonly name: string; readonly version: string };

export function createRequire(_base: string | URL): (id: string) => unknown {
  return (id: string) => {
    if (id === '../package.json') return __MODELPASS_PASS_MANAGER_PACKAGE__;
    return unavailable(`require('${id}')`);
  };
}

export const register = unavailableFunction('module.register');
export const registerHooks = unavailableFunction('module.registerHooks');
export const isBuiltin = (name: string): boolean => name.startsWith('node:');
