export * from './option.js';
export * from './pass.js';
