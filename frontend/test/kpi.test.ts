import { describe, expect, it } from 'vitest';
import { changeDirection, changeTone, targetProgress } from '../src/kpi';

describe('change tone: green = good, red = bad, by the KPI’s good direction', () => {
  it('a rise is good for up-KPIs and bad for down-KPIs (churn)', () => {
    expect(changeTone(0.2, 'up')).toBe('good');
    expect(changeTone(0.2, 'down')).toBe('bad');
    expect(changeTone(-0.2, 'up')).toBe('bad');
    expect(changeTone(-0.2, 'down')).toBe('good');
  });
  it('neutral KPIs are never coloured good or bad', () => {
    expect(changeTone(0.2, 'neutral')).toBe('neutral');
  });
  it('no comparison or a negligible change is not coloured', () => {
    expect(changeTone(null, 'up')).toBe('none');
    expect(changeTone(0.0001, 'down')).toBe('flat');
    expect(changeDirection(undefined)).toBe('none');
    expect(changeDirection(-0.5)).toBe('down');
  });
});

describe('target progress', () => {
  it('compares in the KPI’s own unit', () => {
    expect(targetProgress(0.026, 0.052, 'up')).toEqual({ ratio: 0.5, met: false });
    expect(targetProgress(0.06, 0.052, 'up')?.met).toBe(true);
    expect(targetProgress(0.03, 0.05, 'down')?.met).toBe(true);
    expect(targetProgress(null, 0.052, 'up')).toBeNull();
    expect(targetProgress(0.1, undefined, 'up')).toBeNull();
  });
});
