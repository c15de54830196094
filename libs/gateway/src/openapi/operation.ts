import { SetMetadata } from '@nestjs/common';
import { Subjects, type Subject } from '@sealbox/contracts';
import type { z } from 'zod';

export const OPERATION = 'sealbox:openapi:operation';
export const TAG = 'sealbox:openapi:tag';

/** Response headers a route may set, documented once here. */
export const RESPONSE_HEADERS = {
  ETag: 'The entity tag: send it back in If-Match to replace or update',
  'Key-Total': 'How many keys match the query',
  Location: 'Where the client is sent',
} as const;
export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

/**
 * What the OpenAPI document says about a route beyond what Nest's own metadata tells (path, method,
 * status, path parameters, headers read with `@Headers`, the access rule). Schemas are the zod
 * schemas of libs/contracts, never a second copy: a body is checked against the very schema its
 * documentation is generated from.
 */
export interface OperationDoc {
  readonly summary: string;
  readonly description?: string;
  /** The subject the route sends: its response is the success body unless `response` says otherwise. */
  readonly subject?: Subject;
  /** The request body (required when the handler takes `@Body()`). */
  readonly body?: z.ZodType;
  /** The media types the body may come in (default `application/json`). */
  readonly bodyTypes?: readonly string[];
  /** Whether a body must be sent (default: yes). */
  readonly bodyRequired?: boolean;
  /** The query parameters (required when the handler takes `@Query()`): an object schema, one parameter per property. */
  readonly query?: z.ZodType;
  /** The success body when it is not the subject's response; `null`: none. */
  readonly response?: z.ZodType | null;
  /** Media type of the success body (default `application/json`). */
  readonly responseType?: string;
  /** Other success answers, by status (e.g. a delete that answers 200 with a body when asked to). */
  readonly alternatives?: Readonly<Record<number, string>>;
  readonly responseHeaders?: readonly ResponseHeaderName[];
  /** Descriptions of path parameters, where the default one for the name does not fit. */
  readonly params?: Readonly<Record<string, string>>;
}

/** Documents one route in the OpenAPI document (every route must have one: checked at start). */
export const Operation = (doc: OperationDoc) => SetMetadata(OPERATION, doc);

export interface TagDoc {
  readonly name: string;
  /** Descriptions of the controller's path parameters, where the default one for the name does not fit. */
  readonly params?: Readonly<Record<string, string>>;
}

/** The OpenAPI tag (section of the docs) of every route of a controller. */
export const Tag = (name: string, params?: TagDoc['params']) => SetMetadata(TAG, { name, ...(params ? { params } : {}) } satisfies TagDoc);

/** Names of the bodies `requestBody` made, for the OpenAPI components (`IamApikeyUpdateBody`). */
export const DERIVED_SCHEMA_NAMES = new Map<z.ZodType, string>();

const pascal = (subject: string) => subject.split(/[.-]/).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');

type RequestShapeOf<S extends Subject> = Subjects[S]['request'] extends z.ZodObject<infer Shape> ? Shape : never;

/**
 * The body of a route that sends the subject's request minus the fields the route fills from its
 * path or headers (`instanceId`, `id`, `if_match`): derived from the contract, not written twice.
 */
export function requestBody<S extends Subject>(subject: S, ...filledByRoute: readonly (keyof RequestShapeOf<S> & string)[]): z.ZodObject {
  const request = Subjects[subject].request as unknown as z.ZodObject;
  const body = request.omit(Object.fromEntries(filledByRoute.map((key) => [key, true])) as Record<string, true>);
  DERIVED_SCHEMA_NAMES.set(body, `${pascal(subject)}Body`);
  return body;
}
