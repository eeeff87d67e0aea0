// NDJSON bytes → lines with their file line number and the bytes consumed up to their end. Pull-based,
// so reading the file waits for the COPY.
import { StringDecoder } from 'node:string_decoder';

export interface NdjsonLine {
  /** File line (1-based). */
  line: number;
  /** The line's text without its line break (a leading BOM and a trailing \r removed). */
  text: string;
  /** Bytes of the file up to the end of this line (exact for ASCII, proportional within a read otherwise). */
  bytes: number;
}

/** Every line of the file, blank ones included (the caller skips them; they still count). */
export async function* ndjsonLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<NdjsonLine> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let bytes = 0;
  let chars = 0;
  /** Characters of the file before `text`. */
  let offset = 0;
  const one = (text: string, end: number, bytesPerChar: number): NdjsonLine => {
    line++;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line, text, bytes: Math.round((offset + end) * bytesPerChar) };
  };
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const text = rest + decoder.write(buffer);
    bytes += buffer.length;
    chars += text.length - rest.length;
    const ratio = bytes / Math.max(chars, 1);
    let start = 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      yield one(text.slice(start, end), end + 1, ratio);
      start = end + 1;
    }
    offset += start;
    rest = text.slice(start);
  }
  const tail = decoder.end();
  chars += tail.length;
  rest += tail;
  if (rest) yield one(rest, rest.length, bytes / Math.max(chars, 1));
}
