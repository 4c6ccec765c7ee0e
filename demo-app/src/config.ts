// Where the demo connects: the demo server's /config.json names the origin nodes and the
// edge (if one runs); the visitor picks "direct to origin" or an edge region, and the
// choice is remembered in localStorage.

export interface DemoConfig {
  /** Origin nodes' HTTP base URLs (http://127.0.0.1:7101 …). */
  readonly origins: readonly string[];
  /** The edge worker's HTTP base URL, or null when no edge runs. */
  readonly edge: string | null;
  /** Edge regions to offer (each is its own Durable Object replica). */
  readonly regions: readonly string[];
  /** The keyspace every window shares. */
  readonly keyspace: string;
}

export const ORIGIN_ROUTE = 'origin';
const ROUTE_KEY = 'neuroplex-demo:route';
const CONFIG_KEY = 'neuroplex-demo:config';

/** The server's config; the last one seen when offline (the page still works then). */
export async function loadConfig(): Promise<DemoConfig> {
  try {
    const res = await fetch('./config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json: ${res.status}`);
    const config = (await res.json()) as DemoConfig;
    localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
    return config;
  } catch (e) {
    const saved = localStorage.getItem(CONFIG_KEY);
    if (saved !== null) return JSON.parse(saved) as DemoConfig;
    throw e;
  }
}

/** The routes to offer: 'origin', then 'edge:<region>' for each region. */
export function routesOf(config: DemoConfig): { value: string; label: string }[] {
  const routes = [{ value: ORIGIN_ROUTE, label: `Origin directly (${config.origins.length} nodes)` }];
  if (config.edge !== null) for (const r of config.regions) routes.push({ value: `edge:${r}`, label: `Edge, region ${r}` });
  return routes;
}

export function savedRoute(config: DemoConfig): string {
  const saved = localStorage.getItem(ROUTE_KEY);
  if (saved !== null && routesOf(config).some((r) => r.value === saved)) return saved;
  // The origin first: its clients fail over between the nodes (the edge links to one).
  return ORIGIN_ROUTE;
}

export function saveRoute(route: string): void {
  localStorage.setItem(ROUTE_KEY, route);
}

/** The sync URLs for a route: every origin node (the client fails over), or one edge region. */
export function syncUrls(config: DemoConfig, route: string): string[] {
  const ws = (http: string): string => http.replace(/^http/, 'ws');
  if (route.startsWith('edge:') && config.edge !== null) {
    const region = encodeURIComponent(route.slice('edge:'.length));
    return [`${ws(config.edge)}/v1/sync?ks=${encodeURIComponent(config.keyspace)}&region=${region}`];
  }
  return config.origins.map((o) => `${ws(o)}/v1/sync`);
}
