/**
 * Campaigns for the wall's trend panels: loaded with the wall's token, again every 5
 * minutes (a campaign an admin adds shows up without a reload) and when the live connection
 * comes back. A failed load keeps the last list: bands are context, not data.
 */
import { onScopeDispose, shallowRef } from 'vue';
import { getJson } from '../api';
import type { CampaignBand } from '../campaigns/bands';
import { useRetryingLoad } from '../composables/useRetryingLoad';

const REFRESH_MS = 5 * 60_000;
/** The panels show the last hour; a day either side covers a wall left running. */
const SPAN_MS = 86_400_000;

export function useCampaigns(token: string | undefined) {
  const campaigns = shallowRef<CampaignBand[]>([]);
  const load = useRetryingLoad({
    load: async (signal) => {
      const now = Date.now();
      const q = new URLSearchParams({ from: String(now - SPAN_MS), to: String(now + SPAN_MS) });
      campaigns.value = (await getJson<{ campaigns: CampaignBand[] }>(`/api/v1/campaigns?${q}`, token, signal)).campaigns;
    },
    reloadOn: (state, old) => state === 'connected' && old !== 'connected',
  });
  const timer = setInterval(() => void load(), REFRESH_MS);
  onScopeDispose(() => clearInterval(timer));
  return campaigns;
}
