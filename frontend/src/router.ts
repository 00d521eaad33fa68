/**
 * Pages: the wall at `/` (unattended screens, token in `?token=`), and the analyst pages
 * (`/trends`, `/alerts`) behind the sign-in form. Analyst pages load on demand so the
 * wall's bundle does not grow with them.
 */
import { createRouter, createWebHistory } from 'vue-router';
import WallView from './wall/WallView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Rendered inside the analyst layout (navigation, sign-in). */
    analyst?: boolean;
  }
}

export function createPulseRouter() {
  return createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', name: 'wall', component: WallView },
      { path: '/trends', name: 'trends', component: () => import('./trends/TrendsView.vue'), meta: { analyst: true } },
      { path: '/alerts', name: 'alerts', component: () => import('./alertCenter/AlertsView.vue'), meta: { analyst: true } },
      // `/reports/:id` is the link in the weekly DingTalk message (PULSE_PUBLIC_URL + path).
      { path: '/reports', name: 'reports', component: () => import('./reports/ReportsView.vue'), meta: { analyst: true } },
      { path: '/reports/:id', name: 'report', component: () => import('./reports/ReportsView.vue'), meta: { analyst: true } },
      // The phone pages: `/alert?key=…&at=…` is what an alert message links to, `/m` the morning brief's link.
      { path: '/alert', name: 'alert', component: () => import('./phone/AlertLandingView.vue'), meta: { analyst: true } },
      { path: '/m', name: 'phone', component: () => import('./phone/PhoneOverviewView.vue'), meta: { analyst: true } },
      { path: '/:rest(.*)*', name: 'not-found', component: () => import('./analyst/NotFoundView.vue'), meta: { analyst: true } },
    ],
  });
}
