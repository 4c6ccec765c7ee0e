// The demo page: opens the keyspace from IndexedDB, connects through the chosen route
// (origin or an edge region), and binds the document, the to-do list, the view counter,
// presence, the connection indicator and the cluster panel to it.
import { NeuroplexClient, type StatusEvent } from '../../browser/src/index.ts';
import { ClusterPanel } from './cluster-panel.ts';
import { type DemoConfig, loadConfig, routesOf, saveRoute, savedRoute, syncUrls } from './config.ts';
import { bindPresenceView } from './presence-view.ts';
import { TextBinding } from './text-binding.ts';
import { readTodos, TodoList } from './todos.ts';

const DOC_KEY = 'doc';
const VIEWS_KEY = 'page_views';
const OFFLINE_KEY = 'neuroplex-demo:offline';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from index.html`);
  return el as T;
};

const STATUS_TEXT: Record<string, string> = { offline: 'Offline', connecting: 'Connecting…', syncing: 'Syncing…', synced: 'Synced' };

interface Session {
  readonly client: NeuroplexClient;
  close(): Promise<void>;
}

let viewCounted = false;

async function openSession(config: DemoConfig, route: string): Promise<Session> {
  const client = await NeuroplexClient.connect({ url: syncUrls(config, route), keyspace: config.keyspace, storage: 'indexeddb' });
  const replica = client.replica;
  const offlineSwitch = $<HTMLInputElement>('offline');
  if (offlineSwitch.checked || !navigator.onLine) client.goOffline();
  const cleanups: (() => void)[] = [];

  // Status: offline / connecting / syncing / synced, and changes not yet acknowledged.
  const statusEl = $('status');
  const routeLabel = route === 'origin' ? 'origin' : `edge ${route.slice('edge:'.length)}`;
  const showStatus = (e: StatusEvent): void => {
    statusEl.dataset.status = e.status;
    $('status-text').textContent = `${STATUS_TEXT[e.status] ?? e.status} · ${routeLabel}`;
    const pending = $('pending');
    pending.textContent = e.unacknowledged > 0 ? `${e.unacknowledged} unacknowledged` : '';
    pending.dataset.count = String(e.unacknowledged);
  };
  showStatus({ status: client.status, unacknowledged: client.unacknowledged });
  cleanups.push(client.on('status', showStatus));

  // Page views: one per page load, counted offline too.
  const views = $<HTMLOutputElement>('views');
  const showViews = (): void => {
    views.textContent = String(replica.counter(VIEWS_KEY).value);
  };
  cleanups.push(replica.subscribe(VIEWS_KEY, showViews));
  if (!viewCounted) {
    viewCounted = true;
    replica.counter(VIEWS_KEY).increment(1);
  }
  showViews();

  const todos = new TodoList(replica, $('todos'), $('todo-empty'), $('todo-form'), $('todo-input'));
  cleanups.push(() => todos.dispose());

  // The document, and everyone's carets over it.
  const area = $<HTMLTextAreaElement>('doc');
  const text = client.text(DOC_KEY);
  const binding = new TextBinding(area, text, replica, DOC_KEY);
  cleanups.push(() => binding.dispose());
  cleanups.push(bindPresenceView({ client, text, binding, area, mirror: $('mirror'), nameInput: $('name'), people: $('people') }));

  return {
    client,
    async close(): Promise<void> {
      for (const c of cleanups.reverse()) c();
      await client.close();
    },
  };
}

function registerServiceWorker(): void {
  const state = $('sw-state');
  // Not under Vite's dev server: cached modules would shadow hot reloads.
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  navigator.serviceWorker
    .register('./sw.js')
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      document.body.dataset.sw = 'ready';
      state.textContent = 'The app itself is cached for offline use.';
    })
    .catch(() => {
      state.textContent = 'Offline app cache unavailable here.';
    });
}

async function main(): Promise<void> {
  registerServiceWorker();
  const config = await loadConfig();
  const offlineSwitch = $<HTMLInputElement>('offline');
  offlineSwitch.checked = localStorage.getItem(OFFLINE_KEY) === '1';
  const select = $<HTMLSelectElement>('route');
  for (const r of routesOf(config)) select.append(new Option(r.label, r.value));
  select.value = savedRoute(config);
  const panel = new ClusterPanel($('nodes'), $('cluster-summary'), $('ops-chart'), $('ops-now'));
  panel.start();

  let route = select.value;
  let session = await openSession(config, route);
  let switching = Promise.resolve();
  select.addEventListener('change', () => {
    saveRoute(select.value);
    // Reconnect through the new route; the replica (IndexedDB) carries everything over.
    switching = switching.then(async () => {
      if (select.value === route) return; // the route in use, chosen again: nothing to do
      route = select.value;
      await session.close();
      session = await openSession(config, route);
      expose();
    });
  });
  offlineSwitch.addEventListener('change', () => {
    localStorage.setItem(OFFLINE_KEY, offlineSwitch.checked ? '1' : '0');
    if (offlineSwitch.checked) session.client.goOffline();
    else if (navigator.onLine) session.client.goOnline();
  });
  // The browser's own `online` event reconnects the client; the switch wins over it.
  window.addEventListener('online', () => {
    if (offlineSwitch.checked) session.client.goOffline();
  });

  const expose = (): void => {
    const c = session.client;
    (window as unknown as { neuroplexDemo: unknown }).neuroplexDemo = {
      client: c,
      text: () => c.text(DOC_KEY).toString(),
      todos: () => readTodos(c.replica),
      views: () => c.replica.counter(VIEWS_KEY).value,
      status: () => ({ status: c.status, unacknowledged: c.unacknowledged }),
    };
    document.body.dataset.ready = 'true';
  };
  expose();
}

main().catch((e: unknown) => {
  const el = document.getElementById('status-text');
  if (el !== null) el.textContent = `Could not start: ${e instanceof Error ? e.message : String(e)}`;
  console.error(e);
});
