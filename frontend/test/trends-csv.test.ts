import { describe, expect, it } from 'vitest';
import { BOM, buildCsv, csvField, csvFilename, csvValue, fenToYuan } from '../src/trends/csv';

const tz = 'Asia/Shanghai';
const T0 = Date.UTC(2025, 10, 23, 1, 0); // 09:00 Beijing

describe('CSV fields (RFC 4180)', () => {
  it('quotes commas, quotes, line breaks and edge spaces, doubling quotes', () => {
    expect(csvField('wecom')).toBe('wecom');
    expect(csvField('Store A, "VIP"')).toBe('"Store A, ""VIP"""');
    expect(csvField('a\r\nb')).toBe('"a\r\nb"');
    expect(csvField(' lead')).toBe('" lead"');
    expect(csvField('推送打开率 · 企业微信（%）')).toBe('推送打开率 · 企业微信（%）');
  });
});

describe('values by unit', () => {
  it('writes integer fen as yuan with two decimals without float error', () => {
    expect(fenToYuan(1005)).toBe('10.05');
    expect(fenToYuan(123456789)).toBe('1234567.89');
    expect(fenToYuan(7)).toBe('0.07');
    expect(fenToYuan(-250)).toBe('-2.50');
    expect(fenToYuan(0)).toBe('0.00');
    expect(fenToYuan(1234.6)).toBe('12.35'); // fractional fen (an average) rounds to the fen
    for (let f = 0; f < 2000; f += 7) expect(fenToYuan(f)).toBe((f / 100).toFixed(2));
  });
  it('writes percentages as percent numbers with 4 decimals, counts exactly, missing as empty', () => {
    expect(csvValue(0.123456789, 'percent')).toBe('12.3457');
    expect(csvValue(1 / 3, 'percent')).toBe('33.3333');
    expect(csvValue(42, 'count')).toBe('42');
    expect(csvValue(null, 'count')).toBe('');
    expect(csvValue(1250.4, 'ms')).toBe('1250');
    expect(csvValue(2.5, 'multiple')).toBe('2.5000');
  });
});

describe('the file', () => {
  it('starts with a BOM, uses CRLF, Beijing times, and one column per series', () => {
    const text = buildCsv(
      '时间',
      [
        { header: '成交额 GMV · 企业微信（元）', unit: 'fen', values: new Map([[T0, 1005], [T0 + 3_600_000, 0]]) },
        { header: '推送打开率 · Store A, "VIP"（%）', unit: 'percent', values: new Map([[T0, 0.25], [T0 + 3_600_000, null]]) },
      ],
      tz,
    );
    expect(text.startsWith(BOM)).toBe(true);
    expect(text.slice(1).split('\r\n')).toEqual([
      '时间,成交额 GMV · 企业微信（元）,"推送打开率 · Store A, ""VIP""（%）"',
      '2025-11-23 09:00,10.05,25.0000',
      '2025-11-23 10:00,0.00,',
      '',
    ]);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });
  it('takes every timestamp any column has (series with different steps)', () => {
    const text = buildCsv('时间', [{ header: 'a', unit: 'count', values: new Map([[T0, 1]]) }, { header: 'b', unit: 'count', values: new Map([[T0 + 60_000, 2]]) }], tz);
    expect(text.slice(1).split('\r\n')).toEqual(['时间,a,b', '2025-11-23 09:00,1,', '2025-11-23 09:01,,2', '']);
  });
  it('adds seconds only when a step is shorter than a minute', () => {
    const text = buildCsv('时间', [{ header: 'a', unit: 'count', values: new Map([[T0, 1], [T0 + 10_000, 2]]) }], tz);
    expect(text.slice(1).split('\r\n')).toEqual(['时间,a', '2025-11-23 09:00:00,1', '2025-11-23 09:00:10,2', '']);
  });
  it('names the file after the KPIs and the Beijing-time window', () => {
    expect(csvFilename(['gmv', 'push_open_rate'], T0, T0 + 86_400_000, tz)).toBe('私域脉搏_趋势_gmv+push_open_rate_20251123-0900_20251124-0900.csv');
  });
});
