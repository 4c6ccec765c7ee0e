// A static server for the e2e pages on 127.0.0.1 (a fixed port: IndexedDB is per origin).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const roots = [join(here, 'pages'), join(here, '.build')];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };
const port = Number(process.env.E2E_PORT ?? 4179);

createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  for (const r of roots) {
    const file = join(r, path === '/' ? 'index.html' : path);
    if (file.startsWith(r) && existsSync(file) && statSync(file).isFile()) {
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
      return;
    }
  }
  res.writeHead(404).end('not found');
}).listen(port, '127.0.0.1', () => console.log(`e2e pages on http://127.0.0.1:${port}`));
