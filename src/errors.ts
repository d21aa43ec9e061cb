/**
 * The one place where coded errors are made. Clients branch on `code`, never on message text;
 * `status` is the HTTP status the server answers with (fastify's createError pattern).
 */
export class PlatesearchError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'PlatesearchError';
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): { error: { code: string; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...(this.details ?? {}) } };
  }
}

export type ErrorFactory = ((message?: string, details?: Record<string, unknown>) => PlatesearchError) & {
  readonly code: string;
  readonly status: number;
};

export function createError(code: string, defaultMessage: string, status: number): ErrorFactory {
  const make = (message?: string, details?: Record<string, unknown>) =>
    new PlatesearchError(code, status, message ?? defaultMessage, details);
  return Object.assign(make, { code, status });
}

export function isPlatesearchError(err: unknown): err is PlatesearchError {
  return err instanceof PlatesearchError;
}

// --- client errors (4xx) ---
export const BadInput = createError('PS_BAD_INPUT', 'Invalid input', 400);
export const BadJson = createError('PS_BAD_JSON', 'Body is not valid JSON', 400);
export const Unauthenticated = createError('PS_UNAUTHENTICATED', 'Missing or unknown bearer token', 401);
export const Forbidden = createError('PS_FORBIDDEN', 'Your role does not allow this', 403);
export const NotFound = createError('PS_NOT_FOUND', 'Not found', 404);
/** API.md v1.1: a broad search without a valid approval while the tenant's policy requires one. */
export const ApprovalRequired = createError('PS_APPROVAL_REQUIRED', 'This broad request needs an approved approval', 403);
export const MethodNotAllowed = createError('PS_METHOD_NOT_ALLOWED', 'Method not allowed', 405);
/** The resource is not in a state that allows this (an approval already decided). */
export const Conflict = createError('PS_CONFLICT', 'The request conflicts with the current state', 409);
export const BodyTooLarge = createError('PS_BODY_TOO_LARGE', 'Request body is too large', 413);
export const UnsupportedMediaType = createError('PS_UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type', 415);
export const RateLimited = createError('PS_RATE_LIMITED', 'Too many requests', 429);
// an alert is acknowledged once (API.md v1.1 "Alerts: acknowledgement"); the first ack stands
export const AlreadyAcknowledged = createError('PS_ALERT_ALREADY_ACKNOWLEDGED', 'The alert was already acknowledged', 409);

// --- server cannot serve safely (5xx) ---
export const QueryTimeout = createError('PS_QUERY_TIMEOUT', 'The query exceeded its time budget', 503);
export const AuditUnavailable = createError('PS_AUDIT_UNAVAILABLE', 'Audit record could not be written durably', 503);
export const StorageUnavailable = createError('PS_STORAGE_UNAVAILABLE', 'Storage cannot accept writes durably', 503);
export const ShuttingDown = createError('PS_SHUTTING_DOWN', 'Server is shutting down', 503);
export const Internal = createError('PS_INTERNAL', 'Internal error', 500);

// --- stored data ---
export const CorruptFile = createError('PS_CORRUPT_FILE', 'A data file failed its checksum', 500);
export const UnsupportedFormat = createError('PS_UNSUPPORTED_FORMAT', 'A data file has an unknown format version', 500);

// --- encryption at rest (src/crypto/) ---
export const KeyStoreInvalid = createError('PS_KEY_STORE_INVALID', 'The --key-store value is not a key store', 400);
export const KeyStoreMissing = createError('PS_KEY_STORE_MISSING', 'The key store of this data dir cannot be found', 503);
export const KeyStoreWrong = createError('PS_KEY_STORE_WRONG', 'The key store does not hold this data dir\'s keys', 503);
export const KeyStoreDamaged = createError('PS_KEY_STORE_DAMAGED', 'The key store is damaged', 503);
export const KeyStoreUnavailable = createError('PS_KEY_STORE_UNAVAILABLE', 'The key store cannot be used', 503);
/** A file's key-encryption key was destroyed (crypto-shredded): its data is gone by design, not damaged. */
export const KeyDestroyed = createError('PS_KEY_DESTROYED', 'The key of this data was destroyed', 410);
