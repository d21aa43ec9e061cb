/**
 * The console's one way to the server: the documented /v1 API (API.md), with the signed-in user's token.
 * Nothing else: the console can do exactly what a curl user with the same token can.
 */
import { token } from './session-state';

/** A refused or failed call: `code` is the API's stable error code (clients branch on it, never on text). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  /** The route does not exist on this server (an endpoint of a later version): the console says so. */
  get missingRoute(): boolean {
    return this.status === 404 && /^No route /.test(this.message);
  }
}

export interface CallOptions {
  body?: unknown;
  /** Send as the bearer token instead of the session's (sign-in checks a pasted token before keeping it). */
  token?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const bearer = options.token ?? token.value;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: options.signal, cache: 'no-store' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'PS_NETWORK', 'The server cannot be reached');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
  }
  return json as T;
}

/** Human text of an error for a status line. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.missingRoute) return 'This server does not offer this function yet (API v1.1).';
    return `${err.message} (${err.code})`;
  }
  return String((err as Error)?.message ?? err);
}
