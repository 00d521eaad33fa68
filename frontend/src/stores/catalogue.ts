/**
 * The KPI catalogue (`GET /api/v1/kpis`): labels, units, good direction and targets. The
 * wall derives every tile's text from it, so adding a KPI to the backend catalogue is enough
 * for it to be shown correctly once a layout references it.
 */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';
import type { KpiCatalogue, KpiGroup } from '../api';
import { applyChannelNames } from '../wall/channels';

export const useCatalogueStore = defineStore('catalogue', () => {
  const kpis = shallowRef<KpiDef[]>([]);
  const groups = shallowRef<KpiGroup[]>([]);
  const loaded = computed(() => kpis.value.length > 0);
  const byId = computed(() => new Map(kpis.value.map((k) => [k.id, k])));

  function setCatalogue(c: KpiCatalogue): void {
    kpis.value = c.kpis;
    groups.value = c.groups;
    applyChannelNames(c.channels);
  }

  function def(id: string): KpiDef | undefined {
    return byId.value.get(id);
  }

  return { kpis, groups, loaded, setCatalogue, def };
});
