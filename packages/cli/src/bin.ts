#!/usr/bin/env node
import { main } from './main.js';
import { escapeForTerminal } from './terminal-text.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`modelpass: internal error: ${escapeForTerminal(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  },
);
