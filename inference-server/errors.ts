// Every error the server answers with, in one catalogue: a code, an HTTP status and a message. Domain
// code throws ServerError; one handler (http/app.ts) turns it into
//   {"error": "<message>", "code": "<CODE>", "field": "<where>"}
// Anything else becomes a 500 with no detail: a stack trace never leaves the process.

export const ERRORS = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  UNKNOWN_FIELD: 400,
  MISSING_FIELD: 400,
  INVALID_INPUT_NAME: 400,
  INVALID_DATATYPE: 400,
  INVALID_SHAPE: 400,
  INVALID_DATA: 400,
  NON_FINITE: 400,
  INVALID_BASE64: 400,
  INVALID_IMAGE: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  REQUEST_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  QUEUE_FULL: 503,
  NOT_READY: 503,
  SHUTTING_DOWN: 503,
  WORKER_LOST: 503,
  INFERENCE_TIMEOUT: 504,
  INFERENCE_FAILED: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ServerError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ServerError';
    this.status = ERRORS[code];
  }

  toJSON(): { error: string; code: ErrorCode; field?: string } {
    return this.field === undefined ? { error: this.message, code: this.code } : { error: this.message, code: this.code, field: this.field };
  }
}

export const badInput = (code: ErrorCode, message: string, field: string) => new ServerError(code, message, field);
