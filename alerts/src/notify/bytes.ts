/**
 * UTF-8 byte budgets. Robot limits are in bytes (DingTalk body ≤ 20,000, WeCom markdown
 * ≤ 4096) and Chinese text is 3 bytes a character, emoji 4: counting characters overshoots.
 * Cuts fall between whole graphemes, so no character (or emoji sequence) is ever broken.
 */
export const TRUNCATION_MARKER = '…（内容过长已截断）';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes that ends on a grapheme boundary. */
export function cutToBytes(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--; // back to a code point start
  const prefix = buf.subarray(0, end).toString('utf8');
  // Do not split a grapheme cluster (👨‍👩‍👧, flags, combining marks).
  const seg = graphemes.segment(s).containing(prefix.length);
  return seg && seg.index < prefix.length ? prefix.slice(0, seg.index) : prefix;
}

/** `s` itself if it fits, otherwise a prefix plus the marker, together at most `maxBytes`. */
export function truncateBytes(s: string, maxBytes: number, marker = TRUNCATION_MARKER): string {
  if (byteLength(s) <= maxBytes) return s;
  const room = maxBytes - byteLength(marker);
  return room <= 0 ? cutToBytes(marker, maxBytes) : cutToBytes(s, room) + marker;
}

/**
 * Serialises `build(text)`, shortening `text` just enough for the JSON to fit in `maxBytes`.
 * JSON escapes (`\n` → 2 bytes, `"` → 2) make the serialised size depend on where the cut
 * falls, so the longest fitting cut is found by binary search over the byte budget.
 */
export function fitJson(text: string, build: (text: string) => unknown, maxBytes: number): { body: string; truncated: boolean } {
  const whole = JSON.stringify(build(text));
  if (byteLength(whole) <= maxBytes) return { body: whole, truncated: false };
  const serialise = (budget: number) => JSON.stringify(build(truncateBytes(text, budget)));
  let lo = 0;
  let hi = byteLength(text) - 1;
  let best = JSON.stringify(build('')); // the fixed part alone; the endpoint refuses it if even that is too big
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const body = serialise(mid);
    if (byteLength(body) <= maxBytes) {
      best = body;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return { body: best, truncated: true };
}
