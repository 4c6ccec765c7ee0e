// A small HTTP client for the CLI: tries each endpoint in turn when one cannot be reached,
// and turns the API's error JSON into a CliError with the server's code and message.
import { CliError, ExitCode } from './args.ts';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export class ApiClient {
  constructor(
    private readonly endpoints: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  /** Sends a request; a non-2xx answer becomes CliError("<CODE>: <message>"). */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const res = await this.send(method, path, body, headers);
    if (res.status >= 200 && res.status < 300) return res.body;
    const err = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new CliError(err?.code !== undefined ? `${err.code}: ${err.message ?? ''} (HTTP ${res.status})` : `HTTP ${res.status}`, ExitCode.Failure);
  }

  /** Opens a streaming response (watch) on the first reachable endpoint. */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    let last: unknown;
    for (const e of this.endpoints) {
      try {
        const res = await fetch(e + path, { signal });
        if (!res.ok) {
          const text = await res.text();
          throw new CliError(`HTTP ${res.status}: ${text.slice(0, 300)}`);
        }
        return res;
      } catch (cause) {
        if (cause instanceof CliError) throw cause;
        last = cause;
      }
    }
    throw new CliError(`cannot reach ${this.endpoints.join(', ')}: ${describe(last)}`);
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<ApiResponse> {
    let last: unknown;
    for (const e of this.endpoints) {
      try {
        const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(this.timeoutMs) };
        if (body !== undefined) {
          init.body = JSON.stringify(body);
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
        }
        const res = await fetch(e + path, init);
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON (e.g. /metrics): keep the text.
        }
        return { status: res.status, body: parsed };
      } catch (cause) {
        last = cause;
      }
    }
    throw new CliError(`cannot reach ${this.endpoints.join(', ')}: ${describe(last)}`);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}
