/**
 * The channel breakdown: today's `byChannel` values as table rows with Chinese labels.
 * Known channels keep a fixed order (people learn where to look; rows do not jump around
 * every second); channels the wall does not know follow, by GMV, shown by their id.
 */
import type { Label } from '../../../backend/src/catalogue/kpis';

// One list of channel names for the wall, the report and DingTalk (backend catalogue).
import { CHANNEL_LABELS, channelLabel } from '../../../backend/src/catalogue/channels';

export { CHANNEL_LABELS, channelLabel };

const ORDER = Object.keys(CHANNEL_LABELS);

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
  /** Channels left out to fit the panel. */
  hidden: number;
}

export function channelRows(byChannel: Record<string, Record<string, number | null>> | undefined, maxRows = 8): ChannelTable {
  if (!byChannel) return { rows: [], hidden: 0 };
  const ids = Object.keys(byChannel).filter((id) => id !== '');
  const known = ORDER.filter((id) => ids.includes(id));
  const barOf = (id: string) => byChannel[id]?.[CHANNEL_BAR_KPI] ?? 0;
  const unknown = ids.filter((id) => !ORDER.includes(id)).sort((a, b) => (barOf(b) ?? 0) - (barOf(a) ?? 0) || a.localeCompare(b));
  const all = [...known, ...unknown];
  const shown = all.slice(0, maxRows);
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
