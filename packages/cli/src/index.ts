export { main, commands } from './main.js';
export type { CliIO } from './cli-io.js';
export type { Command } from './command.js';
export { formats, formatFor, type ModelFormat } from './formats.js';
export { summarizeModel, formatSummary, type ModelSummary, type ValueSummary } from './inspect-model.js';
export { builtinEnvironment, environmentWithPlugins } from './environment.js';
export { UsageError } from './usage-error.js';
export { escapeForTerminal } from './terminal-text.js';
export type { CompareVerdict } from './compare-report.js';
