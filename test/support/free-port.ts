// A TCP port on 127.0.0.1 that was free a moment ago (for processes that need a fixed
// port on their command line: wrangler dev, neuroplex start).
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The first of `count` consecutive ports on 127.0.0.1 that were all free a moment ago. */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    if (first + count - 1 > 65535) continue;
    let all = true;
    for (let i = 1; i < count && all; i++) all = await isFree(first + i);
    if (all) return first;
  }
  throw new Error(`no run of ${count} free ports found`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Waits (bounded) until `port` on 127.0.0.1 can be bound again: a process that exited may
 * have children that still hold it (wrangler exits before its workerd).
 */
export async function waitUntilFree(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isFree(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} still in use ${timeoutMs} ms after its process exited`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
