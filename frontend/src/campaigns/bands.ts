/**
 * Campaigns (大促 / 活动, from `GET /api/v1/campaigns`) as shaded bands with their name on a
 * time chart (ECharts markArea on a data-less helper series). Shared by the trends page and
 * the wall's trend panels. Pure.
 */
import type { LineSeriesOption } from 'echarts/charts';

export interface CampaignBand {
  id: string;
  name: string;
  start: number;
  end: number;
  channels?: string[];
}

export interface BandStyle {
  /** Fill of the band and colour of its label. */
  fill: string;
  text: string;
  fontSize: number;
  /** Label background (legible over the line). */
  labelBackground?: string;
}

/** Bands overlapping [from, to], clipped to it, earliest first. */
export function visibleBands(bands: readonly CampaignBand[], from: number, to: number): CampaignBand[] {
  return bands
    .filter((b) => b.start < to && b.end > from)
    .map((b) => ({ ...b, start: Math.max(b.start, from), end: Math.min(b.end, to) }))
    .sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
}

/**
 * A helper line series carrying the bands. `x` maps an instant to the chart's x value (the
 * trends chart draws Beijing wall-clock time as UTC). `label` names a band (the name, plus
 * its channels where the chart wants them).
 */
export function campaignSeries(
  bands: readonly CampaignBand[],
  x: (ts: number) => number,
  style: BandStyle,
  label: (b: CampaignBand) => string = (b) => b.name,
  /** The chart's time range (for where labels go). */
  span: { from: number; to: number } | null = null,
): LineSeriesOption {
  return {
    type: 'line',
    id: 'campaigns',
    name: 'campaigns',
    data: [],
    yAxisIndex: 0,
    silent: true,
    markArea: {
      silent: true,
      itemStyle: { color: style.fill },
      label: {
        show: true,
        position: 'insideTopLeft',
        color: style.text,
        fontSize: style.fontSize,
        ...(style.labelBackground ? { backgroundColor: style.labelBackground, padding: [2, 6], borderRadius: 4 } : {}),
      },
      // A band in the right half names itself from its right edge inwards, so a band ending at
      // the chart's edge is not cut off; neighbours alternate between two rows of labels.
      data: bands.map((b, i) => {
        const right = span !== null && b.start > (span.from + span.to) / 2;
        return [
          { name: label(b), xAxis: x(b.start), label: { position: right ? 'insideTopRight' : 'insideTopLeft', offset: [0, i % 2 ? style.fontSize + 8 : 0] } },
          { xAxis: x(b.end) },
        ];
      }),
    },
  };
}
