/**
 * Where the printer's text goes: a reused byte buffer that is turned into a string each time it
 * fills up, and one join at the end. Printed pieces die young instead of surviving as rope nodes
 * until a final join, and no buffer grows with the output, which keeps garbage collection cheap on
 * big graphs. ASCII is copied byte by byte; other text is stored as UTF-8. A piece never straddles
 * two buffers' worth of text, so multi-byte sequences are decoded whole. Text with a lone
 * surrogate (which UTF-8 cannot carry) is kept as a string piece. With a drain, each full buffer
 * goes out as bytes instead (`printModelToFile` streams to a file this way).
 */
const BUFFER_BYTES = 1 << 16;

/** Receives the sink's bytes as they are produced (the bytes are reused after the call returns). */
export type ByteDrain = (bytes: Uint8Array) => void;

export class TextSink {
  private readonly bytes: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private length = 0;
  private ascii = true;
  private readonly parts: string[] = [];

  /**
   * @param drain when given, full buffers go to it as UTF-8 bytes instead of being kept, so the
   *   whole text never exists at once (streaming to a file); `text()` is then not available
   */
  constructor(private readonly drain?: ByteDrain) {}

  write(text: string): void {
    const count = text.length;
    if (this.length + count * 3 > BUFFER_BYTES) {
      this.flush();
      if (count * 3 > BUFFER_BYTES) {
        this.pushPiece(text);
        return;
      }
    }
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < count; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        this.length = at;
        this.writeOther(i === 0 ? text : text.slice(i));
        return;
      }
      bytes[at++] = code;
    }
    this.length = at;
  }

  /** All text written, as one string (throws a RangeError past the engine's string length limit). */
  text(): string {
    if (this.drain) throw new Error('a draining TextSink keeps no text');
    this.flush();
    return this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
  }

  /** Hands everything buffered to the drain (call once at the end when draining). */
  end(): void {
    this.flush();
  }

  private pushPiece(text: string): void {
    if (this.drain) this.drain(Buffer.from(text, 'utf8'));
    else this.parts.push(text);
  }

  private writeOther(text: string): void {
    if (hasLoneSurrogate(text)) {
      this.flush();
      this.pushPiece(text);
      return;
    }
    this.ascii = false;
    this.length += this.bytes.write(text, this.length, 'utf8');
  }

  private flush(): void {
    if (this.length === 0) return;
    if (this.drain) this.drain(this.bytes.subarray(0, this.length));
    else this.parts.push(this.bytes.toString(this.ascii ? 'latin1' : 'utf8', 0, this.length));
    this.length = 0;
    this.ascii = true;
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
