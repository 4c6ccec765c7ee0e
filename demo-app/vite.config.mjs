// `npm run dev:demo`: Vite's dev server for demo-app/ with hot reload, next to a running
// `npm start` (whose demo server answers /config.json and /api/cluster; DEMO_PORT, 7100).
const demo = `http://127.0.0.1:${process.env.DEMO_PORT ?? 7100}`;

export const config = {
  root: new URL('.', import.meta.url).pathname,
  base: './',
  server: { host: '127.0.0.1', port: 5174, strictPort: true, proxy: { '/config.json': demo, '/api': demo } },
};

export { config as default };
