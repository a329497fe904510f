/** ONNX domains and modelpass dialects: the default domain (`''` or `ai.onnx`) is dialect `onnx`. */
export const DEFAULT_DIALECT = 'onnx';

export function dialectOfDomain(domain: string | null | undefined): string {
  return !domain || domain === 'ai.onnx' ? DEFAULT_DIALECT : domain;
}

export function domainOfDialect(dialect: string): string {
  return dialect === DEFAULT_DIALECT ? '' : dialect;
}

/** Metadata keys modelpass keeps on IR objects to write a model back as it was read. */
export const META_PREFIX = 'modelpass:';
/** On a node: the ONNX node had no name (its IR name was generated). */
export const META_UNNAMED = 'modelpass:onnx.unnamed';
/** On a node: exact int64 text of attribute `<name>` whose value a number cannot hold (comma-separated for ints). */
export const META_INT64_PREFIX = 'modelpass:onnx.int64:';
