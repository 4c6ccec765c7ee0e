// @neuroplex/core client protocol: the frames of the binary WebSocket client protocol.
export {
  CLIENT_PROTOCOL_VERSION,
  ClientOp,
  ResponseKind,
  type ClientConsistency,
  type ClientRequest,
  type ClientResponse,
  encodeRequest,
  decodeRequest,
  encodeResponse,
  decodeResponse,
  peekRequestId,
} from './frames.ts';
