// @modelpass/report — the report schema, model statistics, model diff and HTML rendering.
export * from './schema.js';
export { REPORT_JSON_SCHEMA } from './json-schema.js';
export { validateReport, reportProblems, reportNumber } from './validate.js';
export { describeModel, reportOpName, type DescribeModelOptions } from './describe-model.js';
export { layerTable, quantizationError, WEIGHTED_OPS, type LayerTableOptions } from './layer-table.js';
export { renderHtmlReport, type HtmlReportOptions } from './html/render-html-report.js';
export { diffModels } from './diff/model-diff.js';
export { matchNodes, type NodeMatching, type NodePair } from './diff/match-nodes.js';
export { tensorError, tensorFingerprint, type TensorError } from './diff/tensor-error.js';
export { formatModelDiff, type FormatDiffOptions } from './diff/format-diff.js';
export { notComparableText, shapeChangeOf, formatDims, type MaybeNotComparable } from './not-comparable.js';
