/**
 * Text from a model file (producer, node and value names, doc strings, metadata) or from an error
 * about one is attacker-controlled: an escape sequence in it could set the window title, clear the
 * screen or rewrite earlier lines. `main` passes everything a command prints through
 * `escapeForTerminal`, so no command can forget it.
 */

/**
 * C0 controls except newline and tab (which our own formatting uses), DEL, the C1 controls, and
 * the Unicode bidirectional overrides and isolates (which reorder what a reader sees).
 */
const UNSAFE_FOR_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Shows control characters as `\uXXXX`, so `ESC ] 0 ; title BEL` prints as the harmless text
 * `\u001b]0;title\u0007`. Newlines and tabs stay as they are. The escapes are JSON's own, so
 * `--json` output passes through unchanged in meaning: inside a JSON string `\u007f` parses back to
 * the same character (and JSON has no raw control characters anywhere else).
 */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
