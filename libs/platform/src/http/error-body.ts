import type { ErrorCode, FieldIssue } from '@sealbox/contracts';
import { DomainError, httpStatusOf } from '../errors/index.js';

/** The IBM Cloud error body every HTTP error carries. */
export interface IbmErrorBody {
  readonly errors: readonly {
    readonly code: ErrorCode;
    readonly message: string;
    readonly target?: { readonly type: 'field' | 'header' | 'parameter'; readonly name: string };
  }[];
  readonly status_code: number;
  readonly trace: string;
}

export function ibmErrorBody(error: DomainError, trace: string): { status: number; body: IbmErrorBody } {
  const status = httpStatusOf(error.code);
  const fields: readonly FieldIssue[] = error.fields ?? [];
  const errors = fields.length
    ? fields.map((issue) => ({
        code: error.code,
        message: `${issue.field}: ${issue.message}`,
        target: { type: 'field' as const, name: issue.field },
      }))
    : [{ code: error.code, message: error.message }];
  return { status, body: { errors, status_code: status, trace } };
}

/** Errors raised by Fastify itself (parsing, limits) and by Nest routing, as domain errors. */
export function domainErrorFromHttp(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode, status } = error as { code?: unknown; statusCode?: unknown; status?: unknown };
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'The request content type is not supported');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new DomainError('INVALID_BODY', 'The request body could not be parsed');
    case 'FST_ERR_BAD_URL':
      return new DomainError('ROUTE_NOT_FOUND', 'The requested URL is malformed');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DomainError('URI_TOO_LONG', 'A path parameter of the requested URL is too long');
    default:
      break;
  }
  const httpStatus = typeof statusCode === 'number' ? statusCode : typeof status === 'number' ? status : undefined;
  switch (httpStatus) {
    case 404:
      return new DomainError('ROUTE_NOT_FOUND', 'No such route');
    case 403:
      // What the framework refuses itself, e.g. a static file path with `..` segments (the web console).
      return new DomainError('FORBIDDEN', 'The requested path is not allowed');
    case 405:
      return new DomainError('METHOD_NOT_ALLOWED', 'Method not allowed on this route');
    case 413:
      return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is larger than the limit');
    case 415:
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'The request content type is not supported');
    case 400:
      return new DomainError('INVALID_BODY', 'The request could not be parsed');
    default:
      return undefined;
  }
}
