export { scaffoldPassPackage, type ScaffoldOptions, type ScaffoldResult } from './scaffold.js';
export { renderTemplates, fillTemplate, TEMPLATE_ROOT, type TemplateValues } from './templates.js';
export { packageManifest, TOOLCHAIN, type ManifestInput } from './package-json.js';
export { localWiring, registryWiring, MODELPASS_PACKAGES, VENDOR_FOLDER, type Wiring, type ModelpassPackage } from './wiring.js';
export { camelCase, checkPassName, checkPackageName, defaultPackageName } from './names.js';
export { ScaffoldError } from './scaffold-error.js';
