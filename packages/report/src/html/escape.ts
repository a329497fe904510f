/**
 * Escaping for the HTML report. Every string that comes from a model (node, tensor, input names,
 * paths, pass options, diagnostics) is hostile input: it goes into text or attribute positions only
 * through `escapeHtml`, and into the page's data block only through `jsonForScriptBlock`.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become `\u003c`-style
 * escapes so no `</script>` or `<!--` can end or change the block, and U+2028/U+2029 are escaped
 * for old parsers. `JSON.parse` of the block's text gives back exactly `value`.
 */
export function jsonForScriptBlock(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A string usable as an element id (letters, digits, `-`), derived from a fixed section key. */
export function htmlId(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
