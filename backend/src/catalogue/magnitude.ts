/**
 * Large numbers as 万 / 亿 (en: K / M / B) — one rule for the wall, the weekly report and
 * its DingTalk text, so a figure reads the same everywhere. Pure; the frontend imports it
 * like the channel names.
 */
export type Lang = 'zh' | 'en';

interface Step {
  /** Lower bound of this step (absolute value), in the input's unit. */
  min: number;
  divisor: number;
  digits: number;
  suffix: string;
}

const STEPS: Record<Lang, readonly Step[]> = {
  zh: [
    { min: 1e4, divisor: 1e4, digits: 1, suffix: '万' },
    { min: 1e8, divisor: 1e8, digits: 2, suffix: '亿' },
  ],
  en: [
    { min: 1e4, divisor: 1e3, digits: 1, suffix: 'K' },
    { min: 1e6, divisor: 1e6, digits: 2, suffix: 'M' },
    { min: 1e9, divisor: 1e9, digits: 2, suffix: 'B' },
  ],
};

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Picks the largest step whose bound |v| reaches — *after rounding*, so ¥9,999.996 never
 * shows as "¥10,000.00" but as "¥1.0万", and 9999.96万 as "1.00亿". `small` formats values
 * below the first step.
 */
export function stepped(abs: number, lang: Lang, small: (abs: number) => string): { number: string; suffix: string } {
  const steps = STEPS[lang];
  let chosen = -1;
  for (let i = 0; i < steps.length; i++) if (abs >= steps[i]!.min) chosen = i;
  const next = steps[chosen + 1];
  if (next) {
    const cur = steps[chosen];
    const shown = cur ? round(abs / cur.divisor, cur.digits) * cur.divisor : Number(small(abs).replace(/,/g, ''));
    if (shown >= next.min) chosen++;
  }
  const s = steps[chosen];
  if (!s) return { number: small(abs), suffix: '' };
  // Three significant figures for the two-decimal steps: 1.23亿 but 12.3亿 / 123.5M, not 123.46M.
  const digits = s.digits === 2 && round(abs / s.divisor, 2) >= 10 ? 1 : s.digits;
  return { number: (abs / s.divisor).toFixed(digits), suffix: s.suffix };
}
