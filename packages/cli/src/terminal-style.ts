/**
 * Colour on the terminal: only when the stream is a terminal (or `FORCE_COLOR` asks for it), never
 * when `NO_COLOR` is set (https://no-color.org), and never for `TERM=dumb`.
 */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY && env['TERM'] !== 'dumb';
}

export type Style = 'bold' | 'dim' | 'green' | 'red' | 'cyan';

const SGR: Readonly<Record<Style, readonly [number, number]>> = {
  bold: [1, 22],
  dim: [2, 22],
  green: [32, 39],
  red: [31, 39],
  cyan: [36, 39],
};

/** Styles text with SGR codes, or returns it unchanged. The text must already be terminal-safe. */
export type Stylist = (style: Style, text: string) => string;

export function stylist(enabled: boolean): Stylist {
  if (!enabled) return (_style, text) => text;
  return (style, text) => (text === '' ? text : `\u001b[${SGR[style][0]}m${text}\u001b[${SGR[style][1]}m`);
}
