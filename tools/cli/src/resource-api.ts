/** Resource Controller v2 calls (`/v2/resource_instances`, `/v1/reclamations`), answers checked against the wire schemas. */
import { LifecycleWire } from '@sealbox/contracts';
import type { z } from 'zod';
import { CliError, ExitCode, usage } from './errors.js';
import type { Gateway, HttpAnswer, Query } from './http.js';

type Instance = LifecycleWire.ResourceInstance;
type Reclamation = LifecycleWire.Reclamation;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => GUID.test(value);

/** The answer's body in the documented shape, or exit 1 naming what is off (a server/CLI mismatch). */
export function answerOf<T extends z.ZodType>(schema: T, answer: HttpAnswer, what: string): z.output<T> {
  const parsed = schema.safeParse(answer.body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CliError(ExitCode.SERVER, `The gateway's answer to ${what} is not the documented shape (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'})`);
}

export async function getInstance(gateway: Gateway, id: string): Promise<Instance> {
  const answer = await gateway.request({ method: 'GET', path: `/v2/resource_instances/${encodeURIComponent(id)}` });
  return answerOf(LifecycleWire.ResourceInstance, answer, 'GET /v2/resource_instances/{id}');
}

/** Every page of `GET /v2/resource_instances`, following `next_url` until it is null. */
export async function listInstances(gateway: Gateway, query: Query): Promise<Instance[]> {
  const instances: Instance[] = [];
  let path = '/v2/resource_instances';
  let pageQuery: Query | undefined = { limit: 100, ...query };
  for (let page = 0; page < 1_000; page += 1) {
    const answer = await gateway.request({ method: 'GET', path, ...(pageQuery ? { query: pageQuery } : {}) });
    const list = answerOf(LifecycleWire.ResourceInstancesList, answer, 'GET /v2/resource_instances');
    instances.push(...list.resources);
    if (!list.next_url) return instances;
    const next = new URL(list.next_url, 'http://next.invalid');
    path = `${next.pathname}${next.search}`;
    pageQuery = undefined;
  }
  throw new CliError(ExitCode.SERVER, 'GET /v2/resource_instances kept answering a next_url (1,000 pages)');
}

/**
 * A NAME, GUID or CRN to the instance. A name must name exactly one instance that is not removed (of
 * `services`, when given): else exit 1 when there is none, 2 when several (use the GUID).
 */
export async function findInstance(gateway: Gateway, ref: string, services?: readonly string[]): Promise<Instance> {
  if (ref.startsWith('crn:') || isGuid(ref)) return getInstance(gateway, ref);
  const live = (await listInstances(gateway, { name: ref })).filter((instance) => instance.name === ref && instance.state !== 'removed');
  const matching = services ? live.filter((instance) => services.includes(instance.resource_id)) : live;
  const [only] = matching;
  if (only && matching.length === 1) return only;
  if (matching.length > 1) throw usage(`${matching.length} service instances are named ${ref}; name one by its GUID: ${matching.map((i) => i.guid).join(', ')}`);
  const other = live[0];
  if (other && services) throw usage(`${ref} is a ${other.resource_id} instance, not a ${services.join(' or ')} one`);
  throw new CliError(ExitCode.SERVER, `NOT_FOUND: no ${services ? `${services.join(' or ')} ` : 'service '}instance named ${ref}`, { code: 'NOT_FOUND' });
}

export async function listReclamations(gateway: Gateway, query: Query): Promise<Reclamation[]> {
  const answer = await gateway.request({ method: 'GET', path: '/v1/reclamations', query });
  return answerOf(LifecycleWire.ReclamationsList, answer, 'GET /v1/reclamations').resources;
}

export async function reclamationAction(gateway: Gateway, id: string, action: LifecycleWire.ReclamationAction, body: LifecycleWire.ReclamationActionBody): Promise<Reclamation> {
  const answer = await gateway.request({ method: 'POST', path: `/v1/reclamations/${encodeURIComponent(id)}/actions/${action}`, json: body });
  return answerOf(LifecycleWire.Reclamation, answer, `POST /v1/reclamations/{id}/actions/${action}`);
}
