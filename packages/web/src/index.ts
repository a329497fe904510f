// @modelpass/web — the browser page: modelpass's pure-TypeScript core, bundled into one HTML file.
export { buildWebPage, type BuildWebPageOptions, type WebPageBuild } from './build/build-web-page.js';
export { BROWSER_BUILTINS, FORBIDDEN_PACKAGES } from './build/browser-builtins-plugin.js';
