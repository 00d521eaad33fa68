/**
 * When the WeCom statistics are pulled: once at start-up (the first run backfills; later
 * ones catch up on days missed while the server was down) and then on WECOM_STATS_CRON in
 * the business time zone (croner). A failed pull is logged and retried on the next run;
 * nothing is half-counted because a pull replaces whole days.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { WeComDailyStats } from './dailyStats.js';

export class WeComStatsSchedule {
  private job: Cron | null = null;

  constructor(
    private readonly o: { stats: Pick<WeComDailyStats, 'run'>; cron: string | null; timezone: string; logger: Logger },
  ) {}

  start(): void {
    if (this.o.cron) {
      this.job = new Cron(this.o.cron, { timezone: this.o.timezone, protect: true, unref: true }, () => this.pull('schedule'));
      this.o.logger.info({ connector: 'wecom', cron: this.o.cron, next: this.job.nextRun()?.toISOString() }, 'WeCom statistics pull scheduled');
    }
    void this.pull('start-up');
  }

  stop(): void {
    this.job?.stop();
    this.job = null;
  }

  private async pull(why: string): Promise<void> {
    try {
      await this.o.stats.run();
    } catch (err) {
      this.o.logger.error({ connector: 'wecom', why, err: (err as Error).message }, 'WeCom statistics pull failed; retried on the next run');
    }
  }
}
