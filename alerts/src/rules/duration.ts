/**
 * Durations as written in rule files: `30s`, `15m`, `1h`, `1h30m`, `1d`, `1w` (and `0`).
 * Plain numbers are refused (seconds or minutes?) except 0, which is unambiguous.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const PART = /(\d+)(ms|s|m|h|d|w)/g;
const WHOLE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string | number): number | null {
  if (text === 0 || text === '0') return 0;
  if (typeof text !== 'string') return null;
  const s = text.trim();
  if (!WHOLE.test(s)) return null;
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms;
}

/** The shortest exact spelling: 5_400_000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
