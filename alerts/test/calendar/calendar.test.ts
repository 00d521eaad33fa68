import { describe, expect, it } from 'vitest';
import { Calendar, parseShanghaiTime, shanghaiDate } from '../../src/calendar/index.js';

/** Noon Asia/Shanghai of a date. */
const noon = (d: string) => parseShanghaiTime(`${d} 12:00`);

describe('shipped holiday calendar', () => {
  const cal = Calendar.shipped();

  it('knows the 2025 and 2026 notices: days off and 调休 workdays', () => {
    // 2025 春节: 1-28..2-04 off, 1-26 (Sun) and 2-08 (Sat) worked.
    expect(cal.isHoliday(noon('2025-01-28'))).toBe(true);
    expect(cal.isHoliday(noon('2025-02-04'))).toBe(true);
    expect(cal.isHoliday(noon('2025-02-05'))).toBe(false);
    expect(cal.dayType(noon('2025-01-26'))).toBe('makeup_workday');
    expect(cal.dayType(noon('2025-02-08'))).toBe('makeup_workday');
    // 2025 国庆+中秋 8 days, 9-28 and 10-11 worked.
    expect(cal.isHoliday(noon('2025-10-08'))).toBe(true);
    expect(cal.isMakeupWorkday(noon('2025-10-11'))).toBe(true);
    // 2026 春节 2-15..2-23, 2-14 and 2-28 worked; 元旦 1-01..1-03, 1-04 worked.
    expect(cal.isHoliday(noon('2026-02-15'))).toBe(true);
    expect(cal.isHoliday(noon('2026-02-23'))).toBe(true);
    expect(cal.dayType(noon('2026-02-14'))).toBe('makeup_workday');
    expect(cal.dayType(noon('2026-01-04'))).toBe('makeup_workday');
    expect(cal.isHoliday(noon('2026-10-07'))).toBe(true);
    expect(cal.isMakeupWorkday(noon('2026-10-10'))).toBe(true);
    expect(cal.holidayName(noon('2026-02-18'))).toBe('春节');
  });

  it('counts the 2025 and 2026 days off as the notices do', () => {
    const count = (year: number) => cal.holidays().filter((p) => p.year === year).reduce((n, p) => n + p.off.length, 0);
    // 2025: 1 + 8 + 3 + 5 + 3 + 8; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7.
    expect(count(2025)).toBe(28);
    expect(count(2026)).toBe(33);
  });

  it('marks 2027 as provisional (statutory days only) and ordinary days by weekday', () => {
    expect(cal.coversYear(2025)).toBe('official');
    expect(cal.coversYear(2027)).toBe('provisional');
    expect(cal.coversYear(2030)).toBe('none');
    expect(cal.isHoliday(noon('2027-02-06'))).toBe(true); // 正月初一
    expect(cal.dayType(noon('2025-03-10'))).toBe('workday'); // a Monday
    expect(cal.dayType(noon('2025-03-15'))).toBe('weekend');
    expect(cal.isWorkingDay(noon('2025-02-08'))).toBe(true);
  });

  it('uses Shanghai dates, not UTC ones', () => {
    // 2025-01-27 17:00Z is 2025-01-28 01:00 in Shanghai: 除夕, a day off.
    const t = Date.UTC(2025, 0, 27, 17, 0);
    expect(shanghaiDate(t)).toBe('2025-01-28');
    expect(cal.isHoliday(t)).toBe(true);
    expect(cal.isHoliday(Date.UTC(2025, 0, 27, 15, 0))).toBe(false);
  });

  it('ships 双11 and 618 campaigns and finds them by time', () => {
    const at = cal.campaignsAt(parseShanghaiTime('2026-11-11 10:00'));
    expect(at.map((c) => c.id)).toEqual(['double11-2026']);
    expect(cal.campaignsAt(parseShanghaiTime('2026-11-12 00:00'))).toEqual([]); // end exclusive
    expect(cal.campaignsAt(parseShanghaiTime('2025-06-18 23:59')).map((c) => c.name)).toEqual(['618 大促']);
  });
});

describe('campaigns and extension', () => {
  it('adds, replaces and removes campaigns; channels restrict them', () => {
    const cal = new Calendar();
    cal.addCampaign({ id: 'live-1', name: '直播专场', start: '2025-03-01 19:00', end: '2025-03-01 22:00', channels: ['douyin'] });
    const t = parseShanghaiTime('2025-03-01 20:00');
    expect(cal.campaignsAt(t).map((c) => c.id)).toEqual(['live-1']);
    expect(cal.campaignsAt(t, 'douyin')).toHaveLength(1);
    expect(cal.campaignsAt(t, 'wecom')).toHaveLength(0);
    cal.addCampaign({ id: 'live-1', name: '直播专场（延长）', start: '2025-03-01 19:00', end: '2025-03-02 00:00' });
    expect(cal.campaigns()).toHaveLength(1);
    expect(cal.campaignsAt(parseShanghaiTime('2025-03-01 23:00'), 'wecom')[0]?.name).toBe('直播专场（延长）');
    expect(cal.removeCampaign('live-1')).toBe(true);
    expect(cal.removeCampaign('live-1')).toBe(false);
    expect(cal.campaignsAt(t)).toEqual([]);
  });

  it('refuses bad campaigns with a clear message and keeps what it had', () => {
    const cal = new Calendar();
    cal.addCampaign({ id: 'a', name: 'A', start: '2025-03-01', end: '2025-03-02' });
    expect(() => cal.addCampaign({ id: 'b', name: 'B', start: '2025-03-02', end: '2025-03-01' })).toThrow(/end must be after start/);
    expect(() => cal.addCampaign({ id: 'c', name: 'C', start: 'tomorrow', end: '2025-03-01' })).toThrow(/not a time/);
    expect(() => cal.addCampaign({ id: 'has space', name: 'D', start: '2025-03-01', end: '2025-03-02' })).toThrow(/id/);
    expect(cal.campaigns().map((c) => c.id)).toEqual(['a']);
  });

  it('extends holidays from a document and refuses a date listed twice or a 调休 on a weekday', () => {
    const cal = new Calendar();
    cal.addHolidayDocument({ holidays: [{ year: 2030, name: '测试', off: ['2030-01-01..2030-01-03'], workdays: ['2030-01-05'] }] });
    expect(cal.isHoliday(noon('2030-01-02'))).toBe(true);
    expect(cal.dayType(noon('2030-01-05'))).toBe('makeup_workday');
    expect(() => cal.addHolidayDocument({ holidays: [{ year: 2030, name: '重复', off: ['2030-01-03'] }] }, 'extra.yaml')).toThrow(/extra\.yaml.*2030-01-03 is listed twice/);
    expect(() => cal.addHolidayDocument({ holidays: [{ year: 2030, name: '错', off: ['2030-02-01'], workdays: ['2030-02-04'] }] })).toThrow(/not a weekend day/);
    expect(() => cal.addHolidayDocument({ holidays: [{ year: 2030, name: '错', off: ['2030-02-30'] }] })).toThrow(/not a date/);
  });

  it('holidayRunStart: the first day off of the run a day belongs to; none on 调休 or ordinary days', () => {
    const cal = Calendar.shipped();
    const start = parseShanghaiTime('2026-02-15');
    expect(cal.holidayRunStart(start)).toBe(start);
    expect(cal.holidayRunStart(parseShanghaiTime('2026-02-20 13:00'))).toBe(start);
    expect(cal.holidayRunStart(parseShanghaiTime('2026-02-23 23:59'))).toBe(start);
    expect(cal.holidayRunStart(parseShanghaiTime('2026-02-14 12:00'))).toBeUndefined(); // 调休 workday
    expect(cal.holidayRunStart(parseShanghaiTime('2026-02-24 00:00'))).toBeUndefined();
    // 元旦 2026 (01-01..01-03) is its own run, not joined to anything before it.
    expect(cal.holidayRunStart(parseShanghaiTime('2026-01-03 08:00'))).toBe(parseShanghaiTime('2026-01-01'));
  });

  it('isSpecial: a window touching a holiday or a campaign on the channel', () => {
    const cal = Calendar.shipped();
    cal.addCampaign({ id: 'x', name: 'X', start: '2025-03-05 10:00', end: '2025-03-05 12:00', channels: ['sms'] });
    const h = 3_600_000;
    expect(cal.isSpecial(noon('2025-01-28'), noon('2025-01-28') + h)).toBe(true);
    expect(cal.isSpecial(noon('2025-03-04'), noon('2025-03-04') + h)).toBe(false);
    expect(cal.isSpecial(parseShanghaiTime('2025-03-05 11:00'), parseShanghaiTime('2025-03-05 13:00'), 'sms')).toBe(true);
    expect(cal.isSpecial(parseShanghaiTime('2025-03-05 11:00'), parseShanghaiTime('2025-03-05 13:00'), 'wecom')).toBe(false);
  });
});
