/**
 * Where the printer's text goes: a growing byte buffer turned into one string at the end. Printed
 * pieces die young instead of surviving as rope nodes until a final join, which keeps garbage
 * collection cheap on big graphs. ASCII is copied byte by byte; other text is stored as UTF-8,
 * unless it holds a lone surrogate (which UTF-8 cannot carry), in which case the sink falls back
 * to collecting strings.
 */
export class TextSink {
  private bytes: Buffer = Buffer.allocUnsafe(1 << 16);
  private length = 0;
  private ascii = true;
  /** Text before a lone surrogate forced the string fallback, then the pieces after it. */
  private pieces: string[] | undefined;

  write(text: string): void {
    if (this.pieces) {
      this.pieces.push(text);
      return;
    }
    const count = text.length;
    if (this.length + count * 3 > this.bytes.length) this.grow(count * 3);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < count; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        this.length = at;
        this.writeOther(text.slice(i));
        return;
      }
      bytes[at++] = code;
    }
    this.length = at;
  }

  text(): string {
    const head = this.bytes.toString(this.ascii ? 'latin1' : 'utf8', 0, this.length);
    return this.pieces ? head + this.pieces.join('') : head;
  }

  private writeOther(text: string): void {
    if (hasLoneSurrogate(text)) {
      this.pieces = [text];
      return;
    }
    this.ascii = false;
    this.length += this.bytes.write(text, this.length, 'utf8');
  }

  private grow(extra: number): void {
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.bytes.copy(next, 0, 0, this.length);
    this.bytes = next;
  }
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return true;
  }
  return false;
}
