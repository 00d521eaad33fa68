import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatChangeMagnitude,
  formatCount,
  formatDate,
  formatAgainst,
  formatChange,
  formatDateTime,
  formatStamp,
  formatDuration,
  formatKpi,
  formatMoney,
  formatPercent,
  formatPoints,
  formatSigned,
  formatTime,
  kpiParts,
  MISSING,
} from '@siyu-pulse/contracts/format';

describe('money (integer fen)', () => {
  it('uses 万 between 1万 and 1亿 yuan with one decimal', () => {
    expect(formatMoney(123_456_789)).toBe('¥123.5万'); // ¥1,234,567.89
    expect(formatMoney(1_000_000)).toBe('¥1.0万'); // ¥10,000
    expect(formatMoney(12_345_600)).toBe('¥12.3万');
  });
  it('uses 亿 from 1亿 yuan with two decimals', () => {
    expect(formatMoney(10_000_000_000)).toBe('¥1.00亿');
    expect(formatMoney(123_456_789_012)).toBe('¥12.3亿'); // three significant figures
    expect(formatMoney(999_999_999_999)).toBe('¥100.0亿');
  });
  it('shows yuan and fen below 1万', () => {
    expect(formatMoney(0)).toBe('¥0.00');
    expect(formatMoney(18_890)).toBe('¥188.90');
    expect(formatMoney(987_650)).toBe('¥9,876.50');
  });
  it('carries into the next unit when rounding reaches it', () => {
    expect(formatMoney(999_999)).toBe('¥9,999.99');
    expect(formatMoney(999_999.6)).toBe('¥1.0万'); // ¥9,999.996 would round to ¥10,000.00
    expect(formatMoney(9_999_999_999)).toBe('¥1.00亿'); // 9999.99999万 would round to 10000.0万
  });
  it('handles negatives and missing values', () => {
    expect(formatMoney(-12_345_600)).toBe('−¥12.3万');
    expect(formatMoney(null)).toBe(MISSING);
    expect(formatMoney(Number.NaN)).toBe(MISSING);
  });
  it('uses K / M / B in English', () => {
    expect(formatMoney(123_456_789, 'en')).toBe('¥1.23M');
    expect(formatMoney(12_345_600, 'en')).toBe('¥123.5K');
    expect(formatMoney(987_650, 'en')).toBe('¥9,876.50');
    expect(formatMoney(250_000_000_000, 'en')).toBe('¥2.50B');
    expect(formatMoney(12_345_678_900, 'en')).toBe('¥123.5M');
    expect(formatMoney(999_600_000, 'en')).toBe('¥10.0M'); // 9.996M rounds to 10.00 → one decimal
  });
  it('splits into parts so the number can be set large', () => {
    expect(kpiParts(123_456_789, 'fen')).toEqual({ prefix: '¥', number: '123.5', suffix: '万' });
  });
});

describe('percent (fractions)', () => {
  it('formats fractions with one decimal', () => {
    expect(formatPercent(0.052)).toBe('5.2%');
    expect(formatPercent(0.4)).toBe('40.0%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(0.00049)).toBe('0.0%');
    expect(formatPercent(-0.0123)).toBe('−1.2%');
    expect(formatPercent(null)).toBe(MISSING);
  });
});

describe('counts', () => {
  it('groups thousands below 1万, then 万 and 亿', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(3)).toBe('3');
    expect(formatCount(9_999)).toBe('9,999');
    expect(formatCount(10_000)).toBe('1.0万');
    expect(formatCount(123_456)).toBe('12.3万');
    expect(formatCount(99_999_999)).toBe('1.00亿');
    expect(formatCount(123_456_789)).toBe('1.23亿');
    expect(formatCount(-42)).toBe('−42');
    expect(formatCount(undefined)).toBe(MISSING);
  });
  it('uses K / M in English', () => {
    expect(formatCount(9_999, 'en')).toBe('9,999');
    expect(formatCount(123_456, 'en')).toBe('123.5K');
    expect(formatCount(1_234_567, 'en')).toBe('1.23M');
  });
});

describe('durations (ms)', () => {
  it('picks 毫秒 / 秒 / 分钟 / 小时', () => {
    expect(formatDuration(850)).toBe('850 毫秒');
    expect(formatDuration(4_200)).toBe('4.2 秒');
    expect(formatDuration(42_000)).toBe('42 秒');
    expect(formatDuration(210_000)).toBe('3.5 分钟');
    expect(formatDuration(4_320_000)).toBe('1.2 小时');
    expect(formatDuration(59_700)).toBe('1.0 分钟'); // would round to "60 秒"
    expect(formatDuration(999.6)).toBe('1.0 秒');
    expect(formatDuration(null)).toBe(MISSING);
  });
  it('uses ms / s / min / h in English', () => {
    expect(formatDuration(42_000, 'en')).toBe('42 s');
    expect(formatDuration(210_000, 'en')).toBe('3.5 min');
  });
});

describe('formatKpi by unit', () => {
  it('dispatches on the catalogue unit', () => {
    expect(formatKpi(123_456_789, 'fen')).toBe('¥123.5万');
    expect(formatKpi(0.052, 'percent')).toBe('5.2%');
    expect(formatKpi(42_000, 'ms')).toBe('42 秒');
    expect(formatKpi(12, 'count')).toBe('12');
    expect(formatKpi(3.456, 'multiple')).toBe('3.46 倍');
    expect(formatKpi(3.456, 'multiple', 'en')).toBe('3.46×');
    expect(formatKpi(2.5, 'per_member')).toBe('2.50 次/人');
    expect(formatKpi(null, 'percent')).toBe(MISSING);
  });
  it('writes negatives with a real minus sign in every unit', () => {
    expect(formatKpi(-3.456, 'multiple')).toBe('−3.46 倍');
    expect(formatKpi(-2.5, 'per_member')).toBe('−2.50 次/人');
    expect(formatKpi(-42_000, 'ms')).toBe('−42 秒');
    expect(formatKpi(-250_000, 'fen')).toBe('−¥2,500.00');
  });
  it('keeps alert durations in hours with one decimal (the weekly report)', () => {
    expect(formatKpi(2.25, 'hours')).toBe('2.3 小时');
    expect(formatKpi(36, 'hours', 'en')).toBe('36.0 h');
  });
});

describe('signed values and changes (the weekly report)', () => {
  it('signs values, changes and percentage points', () => {
    expect(formatSigned(310, 'count')).toBe('+310');
    expect(formatSigned(-42, 'count')).toBe('−42');
    expect(formatSigned(0, 'count')).toBe('0');
    expect(formatChange(0.082)).toBe('+8.2%');
    expect(formatChange(-0.082)).toBe('−8.2%');
    expect(formatChange(0.0001)).toBe('0.0%');
    expect(formatPoints(0.012)).toBe('+1.2 个百分点');
    expect(formatPoints(-0.012, 'en')).toBe('−1.2 pp');
  });
  it('adds a decimal when a value and its target would read the same', () => {
    expect(formatAgainst(0.0517, 0.052, 'percent')).toEqual(['5.17%', '5.20%']);
    expect(formatAgainst(0.04, 0.052, 'percent')).toEqual(['4.0%', '5.2%']);
  });
});

describe('changes, relative time, clock', () => {
  it('formats change magnitudes', () => {
    expect(formatChangeMagnitude(0.123)).toBe('12.3%');
    expect(formatChangeMagnitude(-0.05)).toBe('5.0%');
    expect(formatChangeMagnitude(12.5)).toBe('1,250%');
    expect(formatChangeMagnitude(null)).toBe(MISSING);
  });
  it('formats ages', () => {
    expect(formatAgo(1_200)).toBe('刚刚');
    expect(formatAgo(12_000)).toBe('12 秒前');
    expect(formatAgo(185_000)).toBe('3 分钟前');
    expect(formatAgo(2 * 3_600_000)).toBe('2 小时前');
    expect(formatAgo(12_000, 'en')).toBe('12s ago');
    expect(formatAgo(1_000, 'en')).toBe('now');
  });
  it('formats the clock in the business time zone, not the machine’s', () => {
    const ts = Date.UTC(2025, 10, 23, 16, 5, 9); // 2025-11-24 00:05:09 in Shanghai
    expect(formatTime(ts, 'Asia/Shanghai')).toBe('00:05:09');
    expect(formatTime(ts, 'Asia/Shanghai', false)).toBe('00:05');
    expect(formatTime(ts, 'UTC')).toBe('16:05:09');
    expect(formatDate(ts, 'Asia/Shanghai')).toContain('2025年11月24日');
    expect(formatDate(ts, 'Asia/Shanghai')).toContain('星期一');
    expect(formatDateTime(ts, 'Asia/Shanghai')).toBe('2025-11-24 00:05');
    expect(formatDateTime(ts, 'Asia/Shanghai', true)).toBe('2025-11-24 00:05:09');
    expect(formatDateTime(ts, 'UTC')).toBe('2025-11-23 16:05');
    expect(formatStamp(ts, 'Asia/Shanghai', ts)).toBe('11-24 00:05:09');
    expect(formatStamp(ts, 'Asia/Shanghai', Date.UTC(2026, 0, 5))).toBe('2025-11-24 00:05:09');
  });
});
