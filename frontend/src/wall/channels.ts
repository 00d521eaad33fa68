/**
 * The channel breakdown: today's `byChannel` values as table rows with the channels' names.
 * Rows are ranked by what the panel draws (the GMV bar), so the team's own biggest channel
 * is never hidden behind the simulator's seven; ties keep a fixed order (built-in ids first,
 * then by id) so equal rows do not swap every second.
 */
import { shallowRef } from 'vue';
import type { Label } from '@siyu-pulse/contracts/catalogue';

// One list of channel names for the wall, the report and DingTalk (backend catalogue); the
// team's own names (PULSE_CHANNEL_NAMES) arrive with the KPI catalogue.
import { CHANNEL_LABELS, channelLabel as catalogueLabel, setChannelNames } from '@siyu-pulse/contracts/catalogue';

export { CHANNEL_LABELS };

/** Configured names, reactive so every computed that names a channel updates when they arrive. */
const configured = shallowRef<Readonly<Record<string, Label>>>({});

/** Takes the names served with the catalogue (`GET /api/v1/kpis` → `channels`). */
export function applyChannelNames(names: Readonly<Record<string, Label>> | undefined): void {
  const next = names ?? {};
  setChannelNames(next);
  configured.value = next;
}

export function channelLabel(id: string): Label {
  // Own keys only: a producer's channel may be called `constructor`.
  return (Object.hasOwn(configured.value, id) ? configured.value[id] : undefined) ?? catalogueLabel(id);
}

const ORDER = Object.keys(CHANNEL_LABELS);
const rankOf = (id: string) => (ORDER.includes(id) ? ORDER.indexOf(id) : ORDER.length);

/** The columns of the channel table (KPI ids; labels/units come from the catalogue). */
export const CHANNEL_COLUMNS = ['gmv', 'push_open_rate', 'active_members'] as const;
/** The column drawn as a bar (share of the largest row). */
export const CHANNEL_BAR_KPI = 'gmv';

export interface ChannelRow {
  id: string;
  label: Label;
  values: Record<string, number | null>;
  /** value of CHANNEL_BAR_KPI ÷ the largest row's (0…1). */
  bar: number;
}

export interface ChannelTable {
  rows: ChannelRow[];
  /** Channels left out to fit the panel (their note takes the place of one row). */
  hidden: number;
}

export function channelRows(byChannel: Record<string, Record<string, number | null>> | undefined, maxRows = 8): ChannelTable {
  if (!byChannel) return { rows: [], hidden: 0 };
  const ids = Object.keys(byChannel).filter((id) => id !== '');
  const barOf = (id: string) => byChannel[id]?.[CHANNEL_BAR_KPI] ?? 0;
  const all = ids.sort((a, b) => (barOf(b) ?? 0) - (barOf(a) ?? 0) || rankOf(a) - rankOf(b) || a.localeCompare(b));
  // `maxRows` is what the panel holds; the "另有 N 个渠道未显示" note takes one row's height.
  const shown = all.slice(0, all.length > maxRows ? Math.max(1, maxRows - 1) : maxRows);
  const max = Math.max(0, ...shown.map((id) => barOf(id) ?? 0));
  const rows = shown.map((id) => {
    const v = byChannel[id] ?? {};
    const values: Record<string, number | null> = {};
    for (const k of CHANNEL_COLUMNS) values[k] = v[k] ?? null;
    const b = barOf(id) ?? 0;
    return { id, label: channelLabel(id), values, bar: max > 0 ? Math.max(0, b) / max : 0 };
  });
  return { rows, hidden: all.length - shown.length };
}
