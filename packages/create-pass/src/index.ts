export { scaffoldPassPackage, type ScaffoldOptions, type ScaffoldResult } from './scaffold.js';
export { renderTemplates, fillTemplate, TEMPLATE_ROOT, type TemplateValues } from './templates.js';
export { renderPassPackage, type RenderOptions } from './render.js';
export { packageManifest, tsconfigJson, vitestConfig, TOOLCHAIN, type ManifestInput } from './project-files.js';
export { localWiring, registryWiring, workspaceWiring, ownVersion, MODELPASS_PACKAGES, VENDOR_FOLDER, type Wiring, type ModelpassPackage } from './wiring.js';
export { camelCase, checkPassName, checkPackageName, defaultPackageName } from './names.js';
export { ScaffoldError } from './scaffold-error.js';
export { BUILTIN_PASSES, RESERVED_ANCHORS } from './builtin-pass-names.js';
