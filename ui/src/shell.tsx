/**
 * The signed-in console: the header (who, reason, sign-out), the navigation (only what the roles allow), the
 * page, and the map beside the pages that use it. Loaded after sign-in (app.tsx), so the sign-in page does
 * not wait for Leaflet and the pages.
 */
import { useEffect } from 'preact/hooks';
import { startAlerts, stopAlerts, unseen } from './alerts-state';
import { call } from './api';
import { ReasonDialog } from './components/reason-dialog';
import { drawMode, mapPoints, mapSites, mapTrack } from './map/map-state';
import { MapView } from './map/map-view';
import { AdminPage } from './pages/admin';
import { AlertsPage } from './pages/alerts';
import { AnalyticsPage } from './pages/analytics';
import { ApprovalsPage } from './pages/approvals';
import { AuditPage } from './pages/audit';
import { HotlistsPage } from './pages/hotlists';
import { SearchPage } from './pages/search';
import { VehiclePage } from './pages/vehicle';
import { go, route } from './route';
import { can, clearSession, keepToken, me, reason, reasonOpen, token, type Me } from './session-state';

interface Page { id: string; label: string; allowed: boolean; map: boolean }

function pages(): Page[] {
  const c = can.value;
  return [
    { id: 'search', label: 'Search', allowed: c.search, map: true },
    { id: 'analytics', label: 'Analytics', allowed: c.search, map: true },
    { id: 'alerts', label: 'Alerts', allowed: c.alerts, map: true },
    { id: 'hotlists', label: 'Hot lists', allowed: c.hotlists, map: false },
    { id: 'approvals', label: 'Approvals', allowed: c.approvals, map: false },
    { id: 'audit', label: 'Audit', allowed: c.audit, map: false },
    { id: 'admin', label: 'Admin', allowed: c.admin, map: false },
  ];
}

function signOut(): void {
  stopAlerts();
  clearSession();
  mapPoints.value = [];
  mapTrack.value = [];
  mapSites.value = [];
  drawMode.value = 'none';
  location.hash = '';
}

function Header() {
  const who = me.value!;
  return (
    <header class="top">
      <span class="brand">platesearch</span>
      <span class="who">{who.user} · {who.tenant} · {who.roles.join(', ')}</span>
      {can.value.search && (
        <span class="reason">
          {reason.value ? <>Reason: {reason.value.purpose} · case {reason.value.case}</> : 'No reason given yet'}
          <button type="button" onClick={() => (reasonOpen.value = true)}>Edit reason</button>
        </span>
      )}
      <button type="button" onClick={signOut}>Sign out</button>
    </header>
  );
}

function Nav({ list, current }: { list: Page[]; current: string }) {
  return (
    <nav class="main-nav" aria-label="Pages">
      {list.filter((p) => p.allowed).map((p) => (
        <a href={`#/${p.id}`} aria-current={p.id === current ? 'page' : undefined}>
          {p.label}{p.id === 'alerts' && unseen.value > 0 && current !== 'alerts' ? <span class="count"> ({unseen.value} new)</span> : ''}
        </a>
      ))}
    </nav>
  );
}

export function Shell() {
  useEffect(() => {
    // a reload keeps the tab's session: check the stored token again (it may have been revoked)
    if (me.value) {
      if (me.value.roles.includes('dispatcher')) void startAlerts();
    } else if (token.value) {
      call<Me>('GET', '/v1/me').then((who) => {
        keepToken(token.value!, who);
        if (who.roles.includes('dispatcher')) void startAlerts();
      }, () => signOut());
    }
  }, []);

  if (!me.value) return <p class="loading" role="status">Checking your token…</p>;

  const list = pages();
  const [first = '', arg = ''] = route.value;
  const allowed = list.filter((p) => p.allowed);
  let current = first === 'vehicle' && can.value.search ? 'vehicle' : list.find((p) => p.id === first && p.allowed)?.id;
  if (!current) {
    current = allowed[0]?.id ?? 'none';
    if (allowed[0] && first !== current) queueMicrotask(() => go(allowed[0]!.id));
  }
  const withMap = current === 'vehicle' || (list.find((p) => p.id === current)?.map ?? false);
  if (can.value.search && !reason.value && !reasonOpen.value && (current === 'search' || current === 'analytics' || current === 'vehicle')) {
    queueMicrotask(() => (reasonOpen.value = true));
  }
  return (
    <>
      <a class="skip" href="#page">Skip to the page</a>
      <Header />
      <Nav list={list} current={current} />
      <div class={withMap ? 'body with-map' : 'body'}>
        <main id="page" tabIndex={-1}>
          {current === 'search' && <SearchPage />}
          {current === 'vehicle' && <VehiclePage plate={arg} />}
          {current === 'analytics' && <AnalyticsPage kind={arg} />}
          {current === 'alerts' && <AlertsPage />}
          {current === 'hotlists' && <HotlistsPage />}
          {current === 'approvals' && <ApprovalsPage />}
          {current === 'audit' && <AuditPage />}
          {current === 'admin' && <AdminPage />}
          {current === 'none' && <p>Your roles ({me.value.roles.join(', ')}) give you no page in this console.</p>}
        </main>
        <MapView hidden={!withMap} />
      </div>
      {reasonOpen.value && <ReasonDialog />}
    </>
  );
}
