/** The SDK's copy of the ingest vocabulary must match the server's, and its helpers the public scope. */
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES as SERVER_TYPES } from '@siyu-pulse/contracts/catalogue';
import { PUBLIC_EVENT_TYPES } from '../../backend/src/ingest/publicScope.js';
import { EVENT_TYPES, type PageEventType } from '../src/types.js';

describe('SDK ↔ ingest contract', () => {
  it('knows exactly the server event types', () => {
    expect([...EVENT_TYPES]).toEqual([...SERVER_TYPES]);
  });

  it('PageEventType is the public key scope', () => {
    const page: Record<PageEventType, true> = { 'page.view': true, 'cart.add': true, interaction: true, 'push.open': true, 'push.click': true, 'activity.join': true };
    expect(Object.keys(page).sort()).toEqual([...PUBLIC_EVENT_TYPES].sort());
  });
});
