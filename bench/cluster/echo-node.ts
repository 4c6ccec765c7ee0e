// The floor of the cluster benchmark: one process serving the binary client protocol
// (the same ClientProtocolServer, the same WebSocket and socket batching as a real node) in
// front of a node that answers every write at once, with no Raft, no WAL, no fsync and no
// storage. Whatever the driver reaches against it is what this machine does for the
// protocol alone, so the cluster's figures can be judged against it in the same run.
// Usage: echo-node.ts  (prints "listening on http://127.0.0.1:<port>", stops on SIGTERM)
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KvCommand, KvEntry, KvResult } from '../../core/src/kv/commands.ts';
import { CLIENT_PATH, ClientProtocolServer } from '../../server/src/client/client-server.ts';
import type { ClusterInfo, OriginNode, WatchSubscription } from '../../server/src/node/origin-node.ts';

class EchoNode implements OriginNode {
  readonly id = 'echo';
  url = '';
  private version = 0;

  propose(_command: KvCommand): Promise<KvResult> {
    return Promise.resolve({ status: 'ok', version: ++this.version });
  }

  read(): Promise<KvEntry | undefined> {
    return Promise.resolve(undefined);
  }

  cluster(): ClusterInfo {
    return { id: this.id, leader: this.id, term: 1, commitIndex: this.version, appliedIndex: this.version, members: [{ id: this.id, url: this.url, learner: false }] };
  }

  readiness(): { ready: boolean } {
    return { ready: true };
  }

  watch(): WatchSubscription {
    return { close: () => undefined };
  }

  addMember(): Promise<ClusterInfo> {
    return Promise.reject(new Error('the echo node has no membership'));
  }

  removeMember(): Promise<ClusterInfo> {
    return Promise.reject(new Error('the echo node has no membership'));
  }
}

const node = new EchoNode();
const clients = new ClientProtocolServer({ node });
const server = createServer((_req, res) => res.writeHead(404).end());
server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  if (req.url === CLIENT_PATH) clients.handleUpgrade(req, socket, head);
  else socket.destroy();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`listening on ${node.url}`);
process.once('SIGTERM', () => {
  clients.close();
  server.close();
});
