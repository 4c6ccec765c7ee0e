// The cluster panel: polls the demo server's /api/cluster (which reads each origin node's
// /v1/cluster and /metrics, so the origin needs no CORS) once a second, shows each node's
// role, term and commit index, and charts committed entries per second.

export interface NodeView {
  readonly url: string;
  readonly up: boolean;
  readonly id: string | null;
  readonly leader: string | null;
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly isLeader: boolean;
}

const SAMPLES = 60;
const POLL_MS = 1_000;

export class ClusterPanel {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly rates: number[] = [];
  private last: { at: number; commit: number } | undefined;
  private busy = false;
  /** Node ids seen so far, so a node that went down keeps its name. */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly summary: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly now: HTMLElement,
  ) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.draw();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const res = await fetch('./api/cluster', { cache: 'no-store', signal: AbortSignal.timeout(2_500) });
      if (!res.ok) throw new Error(String(res.status));
      const { nodes } = (await res.json()) as { nodes: NodeView[] };
      this.show(nodes);
    } catch {
      this.summary.textContent = navigator.onLine ? 'demo server unreachable' : 'offline: cluster not visible';
      this.body.dataset.state = 'unknown';
    } finally {
      this.busy = false;
    }
  }

  private show(nodes: readonly NodeView[]): void {
    const rows = nodes.map((n, i) => {
      const tr = document.createElement('tr');
      const role = !n.up ? 'down' : n.isLeader ? 'leader' : 'follower';
      tr.className = `node ${role}`;
      tr.dataset.role = role;
      if (n.id !== null) this.names.set(n.url, n.id);
      const name = n.id ?? this.names.get(n.url) ?? `node ${i + 1}`;
      const port = new URL(n.url).port;
      const cells = [`${name}`, role, n.term === null ? '–' : String(n.term), n.commitIndex === null ? '–' : String(n.commitIndex)];
      cells.forEach((text, c) => {
        const td = document.createElement(c === 0 ? 'th' : 'td');
        if (c === 0) {
          td.setAttribute('scope', 'row');
          const dot = document.createElement('span');
          dot.className = 'ndot';
          dot.setAttribute('aria-hidden', 'true');
          const port_ = document.createElement('span');
          port_.className = 'muted small';
          port_.textContent = ` :${port}`;
          td.append(dot, text, port_);
        } else if (c === 1) {
          const badge = document.createElement('span');
          badge.className = `badge ${role}`;
          badge.textContent = text;
          td.append(badge);
        } else td.textContent = text;
        tr.append(td);
      });
      return tr;
    });
    this.body.replaceChildren(...rows);
    this.body.dataset.state = 'known';
    const up = nodes.filter((n) => n.up);
    const leader = up.find((n) => n.isLeader);
    this.summary.textContent = `${up.length} of ${nodes.length} up · ${leader === undefined ? 'no leader (electing)' : `leader ${leader.id}`}`;
    const commit = Math.max(0, ...up.map((n) => n.commitIndex ?? 0));
    const at = performance.now();
    if (this.last !== undefined && at > this.last.at) {
      const rate = Math.max(0, ((commit - this.last.commit) * 1000) / (at - this.last.at));
      this.rates.push(rate);
      if (this.rates.length > SAMPLES) this.rates.shift();
      this.now.textContent = rate < 10 ? rate.toFixed(1) : String(Math.round(rate));
    }
    this.last = { at, commit };
    this.draw();
  }

  private draw(): void {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth || 300;
    const h = c.clientHeight || 80;
    if (c.width !== Math.round(w * ratio)) c.width = Math.round(w * ratio);
    if (c.height !== Math.round(h * ratio)) c.height = Math.round(h * ratio);
    const g = c.getContext('2d');
    if (g === null) return;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    g.strokeStyle = '#e5e7eb';
    g.lineWidth = 1;
    for (let i = 1; i < 4; i++) {
      const y = Math.round((h * i) / 4) + 0.5;
      g.beginPath();
      g.moveTo(0, y);
      g.lineTo(w, y);
      g.stroke();
    }
    const max = Math.max(5, ...this.rates) * 1.15;
    g.fillStyle = '#6b7280';
    g.font = '11px system-ui, sans-serif';
    g.fillText(`${Math.round(max)}/s`, 4, 12);
    if (this.rates.length < 2) return;
    const step = w / (SAMPLES - 1);
    const x0 = w - (this.rates.length - 1) * step;
    const y = (r: number): number => h - 2 - (r / max) * (h - 16);
    g.beginPath();
    g.moveTo(x0, h);
    this.rates.forEach((r, i) => g.lineTo(x0 + i * step, y(r)));
    g.lineTo(w, h);
    g.closePath();
    g.fillStyle = 'rgba(79, 70, 229, 0.12)';
    g.fill();
    g.beginPath();
    this.rates.forEach((r, i) => (i === 0 ? g.moveTo(x0, y(r)) : g.lineTo(x0 + i * step, y(r))));
    g.strokeStyle = '#4f46e5';
    g.lineWidth = 2;
    g.stroke();
  }
}
