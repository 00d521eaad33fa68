/**
 * CSV export of what the chart shows, for Excel and scripts: UTF-8 with a BOM (without it
 * Excel reads Chinese as mojibake), CRLF line ends and RFC 4180 quoting (channel names may
 * hold commas, quotes or spaces). Time is business time `YYYY-MM-DD HH:mm`; money is yuan
 * with two decimals (from integer fen, without float rounding), percentages are written as
 * percent numbers with four decimals, counts as they are. Empty cell = no value.
 */
import type { KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { fileStamp, formatDateTime } from './time';

export const BOM = '\uFEFF';
export const PERCENT_DECIMALS = 4;

export interface CsvColumn {
  header: string;
  unit: KpiUnit;
  /** ts → value; a ts missing from the map is an empty cell. */
  values: ReadonlyMap<number, number | null>;
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF (or edge spaces); double the quotes. */
export function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Integer fen → `1234.50` exactly (fractional fen, e.g. an average order value, is rounded to the fen first). */
export function fenToYuan(fen: number): string {
  const f = Math.round(fen);
  const abs = Math.abs(f);
  return `${f < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function csvValue(v: number | null | undefined, unit: KpiUnit): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  switch (unit) {
    case 'fen':
      return fenToYuan(v);
    case 'percent':
      return (v * 100).toFixed(PERCENT_DECIMALS);
    case 'ms':
      return String(Math.round(v));
    case 'count':
      return Number.isInteger(v) ? String(v) : v.toFixed(4);
    case 'multiple':
    case 'per_member':
      return v.toFixed(4);
  }
}

/** The unit as a header suffix (the values carry no unit signs). */
export const UNIT_HEADER: Record<KpiUnit, { zh: string; en: string }> = {
  count: { zh: '', en: '' },
  fen: { zh: '（元）', en: ' (CNY)' },
  percent: { zh: '（%）', en: ' (%)' },
  ms: { zh: '（毫秒）', en: ' (ms)' },
  multiple: { zh: '（倍）', en: ' (×)' },
  per_member: { zh: '（次/人）', en: ' (per member)' },
};

/**
 * The whole file, BOM included. Rows: every timestamp any column has, in order. Times are
 * `YYYY-MM-DD HH:mm`, with seconds only when some step is shorter than a minute (10 s steps
 * would otherwise give six rows with the same time).
 */
export function buildCsv(timeHeader: string, columns: readonly CsvColumn[], timezone: string): string {
  const times = new Set<number>();
  for (const c of columns) for (const ts of c.values.keys()) times.add(ts);
  const sorted = [...times].sort((a, b) => a - b);
  const seconds = sorted.some((ts) => ts % 60_000 !== 0);
  const rows = [[timeHeader, ...columns.map((c) => c.header)]];
  for (const ts of sorted) rows.push([formatDateTime(ts, timezone, seconds), ...columns.map((c) => csvValue(c.values.get(ts), c.unit))]);
  return BOM + rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** `私域脉搏_趋势_<kpi>_<from>_<to>.csv` with business-time stamps; characters file systems refuse are replaced. */
export function csvFilename(kpis: readonly string[], from: number, to: number, timezone: string): string {
  const name = `私域脉搏_趋势_${kpis.join('+')}_${fileStamp(from, timezone)}_${fileStamp(to, timezone)}.csv`;
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_');
}
