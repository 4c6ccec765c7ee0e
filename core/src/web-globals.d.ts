// The few Web APIs the core may use. core/ compiles with lib ES2022 and no DOM or Node
// types, so anything used here must be declared here: a deliberate, short list of what
// browsers, workerd and Node 20 all provide.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
