/**
 * Loads the KPI catalogue, retrying with backoff until it succeeds (the wall may start
 * before the backend), and again whenever the live connection comes back without one.
 */
import { fetchCatalogue } from '../api';
import { useCatalogueStore } from '../stores/catalogue';
import { useRetryingLoad } from '../composables/useRetryingLoad';

export function useCatalogue(token: string | undefined) {
  const catalogue = useCatalogueStore();
  const reload = useRetryingLoad({
    load: async (signal) => catalogue.setCatalogue(await fetchCatalogue(token, signal)),
    reloadOn: (state) => state === 'connected' && !catalogue.loaded,
  });
  return { reload };
}
