/** The business calendar (holidays, 调休, campaigns) rules consult. */
export {
  Calendar,
  CALENDAR_DIR,
  DEFAULT_CAMPAIGNS,
  DEFAULT_HOLIDAYS,
  parseShanghaiTime,
  shanghaiDate,
  shanghaiMidnight,
  shanghaiWeekday,
  type Campaign,
  type CampaignInput,
  type DayType,
  type HolidayPeriod,
} from './calendar.js';
