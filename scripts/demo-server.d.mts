// Types for scripts/demo-server.mjs (used by the e2e specs).
export declare const DEMO_DIST: string;
export interface DemoServerOptions {
  readonly port: number;
  readonly origins: readonly string[];
  readonly edge?: string | null;
  readonly regions?: readonly string[];
  readonly keyspace?: string;
  readonly dist?: string;
}
export declare function startDemoServer(options: DemoServerOptions): Promise<{ url: string; close(): Promise<void> }>;
