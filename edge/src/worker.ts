// The Worker's main module (wrangler.toml `main`): workerd accepts only handlers and
// Durable Object classes as its exports, so the routes live in app.ts.
import { app } from './app.ts';
import { KeyspaceReplicaObject } from './replica-object.ts';

export { KeyspaceReplicaObject };

export default { fetch: app.fetch };
