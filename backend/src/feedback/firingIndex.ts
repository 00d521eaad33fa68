/**
 * Which stored event is the firing of each open alert: the active list shows alert
 * instances (by alert key), feedback is given on events. Fed with every published batch
 * of alert events; an alert that resolves is forgotten, so the map holds open alerts only.
 */
import type { AlertEvent } from '@siyu-pulse/alerts';

export interface FiringRef {
  eventId: string;
  ts: number;
}

export class FiringIndex {
  private readonly byKey = new Map<string, FiringRef>();

  /** Events in time order (a stored history read back at start-up too: the alert state outlives a restart). */
  record(events: readonly Pick<AlertEvent, 'id' | 'alertKey' | 'state' | 'ts'>[]): void {
    for (const e of events) {
      if (e.state === 'firing' || e.state === 'flapping') this.byKey.set(e.alertKey, { eventId: e.id, ts: e.ts });
      else if (e.state === 'ok' || e.state === 'resolved') this.byKey.delete(e.alertKey);
    }
  }

  of(alertKey: string): FiringRef | undefined {
    return this.byKey.get(alertKey);
  }
}
