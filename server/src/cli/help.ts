// Help texts of the neuroplex CLI, one per command.

const CONNECT = `Connection flags:
  --endpoints <urls>   comma-separated node URLs (default $NEUROPLEX_ENDPOINTS or http://127.0.0.1:7101)
  --ks <keyspace>      keyspace (default "default")
  --timeout <ms>       request timeout (default 5000)`;

export const HELP: Record<string, string> = {
  main: `neuroplex: Neuroplex origin node and tools

Usage: neuroplex <command> [flags]

Commands:
  start              run one origin node
  cluster            run a local cluster of origin nodes
  status             show members, leader, term, commit/applied index and lag
  kv get|put|del|cas|watch   read and write keys
  member add|remove  change cluster membership

Run \`neuroplex <command> --help\` for the flags of a command.`,
  start: `Usage: neuroplex start --listen <host:port> --data <dir> [flags]

Runs one origin node serving the Origin HTTP API: alone, or with --peers as a member of
a Raft cluster (every write committed on a quorum before its answer).

Flags:
  --id <id>                 node id (default n1)
  --listen <host:port>      address to listen on (default 127.0.0.1:7101; port 0 picks a free one)
  --data <dir>              data directory, created if missing (required)
  --peers <id=host:port,...>  the other members: with it the node joins a Raft cluster
  --cluster-secret <s>      shared secret authenticating peer links (or $NEUROPLEX_CLUSTER_SECRET; 16+ chars)
  --sync-token <t>          token sync clients must present on GET /v1/sync (or $NEUROPLEX_SYNC_TOKEN; default: none)
  --presence-timeout-ms <n> drop a present sync peer not heard from for this long (default 30000)
  --max-value-bytes <n>     largest value (default 1048576)
  --snapshot-every <n>      snapshot and compact the WAL every n entries (default 100000;
                            a single node without peers: 10000)
  --cache-entries <n>       ARC read cache size in keys (default 100000)`,
  cluster: `Usage: neuroplex cluster [--nodes <n>] [--base-port <port>] [--data <dir>]

Starts a local cluster of n origin node processes on 127.0.0.1 (ports base-port..),
data under .neuroplex/<id>/, one cluster secret in .neuroplex/cluster-secret.
Ctrl-C stops every node.

Flags:
  --nodes <n>        number of nodes, 1-7 (default 3)
  --base-port <p>    first HTTP port (default 7101)
  --data <dir>       data root (default .neuroplex)`,
  status: `Usage: neuroplex status [flags]

Shows each endpoint's view: id, leader, term, commit and applied index, lag, members.

${CONNECT}`,
  kv: `Usage: neuroplex kv <get|put|del|cas|watch> ...

  kv get <key> [--consistency strong|causal|eventual] [--min-version N] [--json]
  kv put <key> <value> [--if-version N] [--idempotency-key client/seq]
  kv del <key> [--if-version N]
  kv cas <key> <expected-version> <value>      (expected-version 0: only if absent)
  kv watch <prefix> [--from-version N] [--count N]

<value> is parsed as JSON when it is valid JSON, else taken as a string.

${CONNECT}`,
  member: `Usage: neuroplex member <add|remove> ...

  member add <id> <url> [--learner]
  member remove <id>

${CONNECT}`,
};
