// The demo page: opens the keyspace from IndexedDB, connects through the chosen route
// (origin or an edge region), and binds the document, the to-do list, the view counter,
// presence, the connection indicator and the cluster panel to it.
import { NeuroplexClient, type StatusEvent } from '../../browser/src/index.ts';
import { ClusterPanel } from './cluster-panel.ts';
import { type DemoConfig, loadConfig, routesOf, saveRoute, savedRoute, syncUrls } from './config.ts';
import { demoPeers, myIdentity, presenceOf, saveName } from './presence.ts';
import { RemoteCursors } from './remote-cursors.ts';
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

  // The document and everyone's carets.
  const area = $<HTMLTextAreaElement>('doc');
  const text = client.text(DOC_KEY);
  const binding = new TextBinding(area, text, replica, DOC_KEY);
  cleanups.push(() => binding.dispose());
  const cursors = new RemoteCursors(area, $('mirror'));
  cleanups.push(() => cursors.dispose());
  const presence = presenceOf(client);
  const identity = myIdentity();
  const nameInput = $<HTMLInputElement>('name');
  nameInput.value = identity.name;

  const drawPeople = (): void => {
    const peers = demoPeers(presence.api);
    const placed = peers.map((peer) => {
      const end = peer.head === null ? 0 : text.resolve(peer.head);
      const start = peer.anchor === null ? end : text.resolve(peer.anchor);
      return { peer, start, end };
    });
    cursors.render(binding.value, placed);
    const chips = [{ name: `${nameInput.value.trim() || identity.name} (you)`, color: identity.color }, ...peers];
    $('people').replaceChildren(
      ...chips.map((p) => {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.style.setProperty('--c', p.color);
        chip.textContent = p.name;
        return chip;
      }),
    );
  };

  let publishTimer: ReturnType<typeof setTimeout> | undefined;
  const publish = (): void => {
    if (publishTimer !== undefined) return;
    publishTimer = setTimeout(() => {
      publishTimer = undefined;
      const len = text.length;
      // A stable position (it follows its letter), as plain JSON.
      const at = (i: number): { replica: number; counter: number } | null => {
        if (len === 0) return null;
        const p = text.cursor(Math.min(i, len));
        return { replica: p.replica, counter: p.counter };
      };
      presence.api.set({
        name: nameInput.value.trim() || identity.name,
        color: identity.color,
        anchor: at(area.selectionStart),
        head: at(area.selectionEnd),
        active: document.activeElement === area,
      });
    }, 30);
  };
  const onSelection = (): void => {
    if (document.activeElement === area) publish();
  };
  document.addEventListener('selectionchange', onSelection);
  area.addEventListener('focus', publish);
  area.addEventListener('blur', publish);
  const onName = (): void => {
    const name = nameInput.value.trim();
    if (name !== '') saveName(name);
    publish();
    drawPeople();
  };
  nameInput.addEventListener('change', onName);
  cleanups.push(() => {
    document.removeEventListener('selectionchange', onSelection);
    area.removeEventListener('focus', publish);
    area.removeEventListener('blur', publish);
    nameInput.removeEventListener('change', onName);
    if (publishTimer !== undefined) clearTimeout(publishTimer);
  });
  cleanups.push(binding.onChange(() => {
    drawPeople();
    publish();
  }));
  cleanups.push(presence.on(drawPeople));
  const resize = new ResizeObserver(() => drawPeople());
  resize.observe(area);
  cleanups.push(() => resize.disconnect());
  drawPeople();
  publish();

  return {
    client,
    async close(): Promise<void> {
      presence.api.set(null);
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

  let session = await openSession(config, select.value);
  let switching = Promise.resolve();
  select.addEventListener('change', () => {
    saveRoute(select.value);
    // Reconnect through the new route; the replica (IndexedDB) carries everything over.
    switching = switching.then(async () => {
      await session.close();
      session = await openSession(config, select.value);
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
