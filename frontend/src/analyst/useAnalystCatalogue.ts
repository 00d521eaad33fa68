/**
 * The KPI catalogue for the analyst pages, loaded once with the signed-in token into the
 * same store the wall uses (labels, units, good direction, targets).
 */
import { ref } from 'vue';
import type { KpiCatalogue } from '../api';
import { useCatalogueStore } from '../stores/catalogue';
import { useApi } from './useApi';

export function useAnalystCatalogue() {
  const catalogue = useCatalogueStore();
  const api = useApi();
  const error = ref<string | null>(null);
  if (!catalogue.loaded) {
    api.get<KpiCatalogue>('/api/v1/kpis').then(
      (c) => catalogue.setCatalogue(c),
      (err: Error) => (error.value = err.message),
    );
  }
  return { catalogue, error };
}
