// The binary client protocol: the node's WebSocket endpoint and the Node client.
export { CLIENT_PATH, ClientProtocolServer, type ClientServerOptions, ClientServerErrorCode } from './client-server.ts';
export { BinaryClient, type BinaryClientOptions, ClientError, ClientErrorCode } from './binary-client.ts';
