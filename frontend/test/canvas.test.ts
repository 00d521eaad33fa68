import { describe, expect, it } from 'vitest';
import { fitCanvas } from '../src/wall/useCanvasScale';
import { langFromUrl } from '../src/i18n';
import { tokenFromUrl } from '../src/api';

describe('fitCanvas (1920×1080, letterboxed)', () => {
  it('is 1:1 at 1080p and 2× at 4K', () => {
    expect(fitCanvas(1920, 1080)).toEqual({ scale: 1, x: 0, y: 0 });
    expect(fitCanvas(3840, 2160)).toEqual({ scale: 2, x: 0, y: 0 });
  });
  it('letterboxes other aspect ratios instead of cropping', () => {
    const ultrawide = fitCanvas(2560, 1080);
    expect(ultrawide.scale).toBe(1);
    expect(ultrawide.x).toBe(320);
    const tall = fitCanvas(1920, 1200);
    expect(tall.scale).toBe(1);
    expect(tall.y).toBe(60);
  });
});

describe('URL parameters', () => {
  it('reads lang and token', () => {
    expect(langFromUrl('?lang=en')).toBe('en');
    expect(langFromUrl('?lang=zh')).toBe('zh');
    expect(langFromUrl('')).toBe('zh');
    expect(tokenFromUrl('?token=abc&lang=en')).toBe('abc');
    expect(tokenFromUrl('?token=')).toBeUndefined();
  });
});
