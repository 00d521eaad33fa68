/**
 * Report weeks (ISO ids, Beijing-time boundaries, parsing), the schedule's make-up of a run
 * missed while the server was down, and the schedule settings' validation at start-up.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import { WeeklyReportSchedule } from '../src/reports/schedule.js';
import { reportTargets } from '../src/reports/service.js';
import { lastCompleteWeek, parseWeek, weekId, weekLabel, weekOf, type Week } from '../src/reports/week.js';

const TZ = 'Asia/Shanghai';
const at = (iso: string) => Date.parse(iso);

describe('report weeks', () => {
  it('run Monday 00:00 to Monday 00:00 Beijing time, named by ISO week', () => {
    const w = weekOf(at('2026-11-22T23:59:59+08:00'), TZ);
    expect(w).toEqual({ from: at('2026-11-16T00:00:00+08:00'), to: at('2026-11-23T00:00:00+08:00') });
    expect(weekId(w.from, TZ)).toBe('2026-W47');
    expect(weekLabel(w, TZ)).toBe('2026-11-16 – 11-22');
    // Monday 07:00 Beijing is still Sunday in UTC: the week is Beijing's.
    expect(lastCompleteWeek(at('2026-11-23T07:00:00+08:00'), TZ)).toEqual(w);
    // ISO years: 2026-12-28 is in 2026-W53; 2027-01-01 too; 2025-12-29 is 2026-W01.
    expect(weekId(weekOf(at('2027-01-01T12:00:00+08:00'), TZ).from, TZ)).toBe('2026-W53');
    expect(weekId(weekOf(at('2025-12-31T12:00:00+08:00'), TZ).from, TZ)).toBe('2026-W01');
    expect(weekLabel(weekOf(at('2027-01-01T12:00:00+08:00'), TZ), TZ)).toBe('2026-12-28 – 2027-01-03');
  });

  it('parse an ISO week or a Monday in epoch ms, and say why anything else is not one', () => {
    const w47 = parseWeek('2026-W47', TZ) as Week;
    expect(w47.from).toBe(at('2026-11-16T00:00:00+08:00'));
    expect(parseWeek(w47.from, TZ)).toEqual(w47);
    expect(parseWeek('2026-W53', TZ)).toEqual({ from: at('2026-12-28T00:00:00+08:00'), to: at('2027-01-04T00:00:00+08:00') });
    expect(parseWeek('2027-W53', TZ)).toEqual({ error: 'week: 2027-W53 does not exist (2027 has 52 ISO weeks)' });
    expect(parseWeek('2026-W00', TZ)).toHaveProperty('error');
    expect(parseWeek('2026-47', TZ)).toHaveProperty('error');
    expect((parseWeek(w47.from + 1, TZ) as { error: string }).error).toMatch(/not a Monday 00:00 in Asia\/Shanghai; the week holding it starts at \d+ \(2026-W47\)/);
    // Every week of several years round-trips.
    for (let t = at('2024-01-01T12:00:00+08:00'); t < at('2029-01-01T00:00:00+08:00'); t += 7 * 86_400_000) {
      const w = weekOf(t, TZ);
      expect(parseWeek(weekId(w.from, TZ), TZ)).toEqual(w);
    }
  });
});

function fakeService(existing: Partial<Record<string, WeeklyReport['trigger']>>, hasData = true) {
  const generated: { id: string; trigger: string }[] = [];
  return {
    generated,
    service: {
      idOf: (w: Week) => weekId(w.from, TZ),
      get: (id: string) => (existing[id] ? ({ id, trigger: existing[id] } as WeeklyReport) : null),
      hasData: async () => hasData,
      generate: async (w: Week, o: { trigger: WeeklyReport['trigger'] }) => {
        generated.push({ id: weekId(w.from, TZ), trigger: o.trigger });
        return {} as WeeklyReport;
      },
    },
  };
}

describe('weekly report schedule', () => {
  const start = async (now: string, existing: Partial<Record<string, WeeklyReport['trigger']>> = {}, hasData = true) => {
    const f = fakeService(existing, hasData);
    const s = new WeeklyReportSchedule({ cron: '0 9 * * 1', timezone: TZ, service: f.service, logger: pino({ level: 'silent' }), now: () => at(now) });
    await s.start();
    s.stop();
    return f.generated;
  };

  it('makes up a Monday 09:00 run missed while the server was down, once', async () => {
    expect(await start('2026-11-23T10:30:00+08:00')).toEqual([{ id: '2026-W47', trigger: 'schedule' }]);
    expect(await start('2026-11-26T10:30:00+08:00')).toEqual([{ id: '2026-W47', trigger: 'schedule' }]);
    // Before this week's run is due: the timer will do it.
    expect(await start('2026-11-23T08:59:00+08:00')).toEqual([]);
    // Already there (scheduled or made by hand): nothing to make up.
    expect(await start('2026-11-23T10:30:00+08:00', { '2026-W47': 'schedule' })).toEqual([]);
    expect(await start('2026-11-23T10:30:00+08:00', { '2026-W47': 'manual' })).toEqual([]);
    // A fresh install with nothing stored for last week sends nothing.
    expect(await start('2026-11-23T10:30:00+08:00', {}, false)).toEqual([]);
  });
});

describe('weekly report settings', () => {
  const base = { PULSE_DEMO: 'on', PULSE_DATA_DIR: '/tmp/pulse-report-config' };
  it('validate the cron expression at start-up with a clear message; off disables the schedule', () => {
    expect(loadConfig(base).reports).toEqual({ cron: '0 9 * * 1', notify: null });
    expect(loadConfig({ ...base, PULSE_WEEKLY_REPORT_CRON: 'off' }).reports.cron).toBeNull();
    expect(loadConfig({ ...base, PULSE_WEEKLY_REPORT_CRON: '30 8 * * MON' }).reports.cron).toBe('30 8 * * MON');
    for (const [bad, why] of [['every monday', /exactly five, six, or seven/], ['61 9 * * 1', /minute/], ['0 0 30 2 *', /never runs/]] as const) {
      let err: unknown;
      try {
        loadConfig({ ...base, PULSE_WEEKLY_REPORT_CRON: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([expect.stringMatching(new RegExp(`^PULSE_WEEKLY_REPORT_CRON: .*${why.source}.*or off for no schedule`))]);
    }
  });

  it('send to DingTalk by default when it is configured; none means the page only; unknown ids stop start-up', () => {
    expect(reportTargets(null, ['dingtalk', 'wecom'])).toEqual(['dingtalk']);
    expect(reportTargets(null, ['wecom'])).toEqual([]);
    expect(loadConfig({ ...base, PULSE_WEEKLY_REPORT_NOTIFY: 'none' }).reports.notify).toEqual([]);
    expect(loadConfig({ ...base, PULSE_WEEKLY_REPORT_NOTIFY: 'dingtalk, wecom' }).reports.notify).toEqual(['dingtalk', 'wecom']);
    expect(reportTargets(['wecom'], ['dingtalk', 'wecom'])).toEqual(['wecom']);
    expect(() => reportTargets(['feishu'], ['dingtalk'])).toThrow('PULSE_WEEKLY_REPORT_NOTIFY: no notifier "feishu" is configured (configured: dingtalk); use none for the report page only');
  });
});
