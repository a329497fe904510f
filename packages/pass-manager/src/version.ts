import { createRequire } from 'node:module';

// src/ and dist/ both sit one level below the package root.
const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

/** This package's version, which plugins' `passManager` ranges are checked against. */
export const PASS_MANAGER_VERSION: string = packageJson.version;
