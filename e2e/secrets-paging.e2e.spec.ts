import type { SecretsWire as W } from '@sealbox/contracts';
import type { SecretsManagerClient } from '@sealbox/sm-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { adminSession, createAccountOverNats, type AdminSession } from './harness/iam.js';
import { NatsCaller } from './harness/kms.js';
import { inParallel, provisionSecretsInstance, smFailure, statusCode } from './harness/secrets.js';

/**
 * Paging of listSecrets over 450 secrets of one instance (SM v2 client, distributed stack): pages of
 * 100 followed through `next` return every secret exactly once and the last page has no `next`; the
 * client's pager agrees; sort, search and the groups / secret_types / match_all_labels filters are
 * spot-checked against what the test created.
 */

const stack = stackInfo();
const tag = `sm-page-${stack.runId}`;
const TOTAL = 450;
const PAGE = 100;
/** Every KV_EVERY-th secret is a kv secret, the others arbitrary. */
const KV_EVERY = 9;
/** Every GROUP_EVERY-th secret is in the custom group. */
const GROUP_EVERY = 15;

interface Planned {
  readonly index: number;
  readonly name: string;
  readonly type: 'arbitrary' | 'kv';
  readonly labels: string[];
  readonly inGroup: boolean;
  readonly needle: boolean;
}

/** Names zero-padded and lowercase, so name order is the same in every collation. */
const nameOf = (index: number) => `pg-${String(index).padStart(4, '0')}`;

function plan(index: number): Planned {
  const labels = [index % 2 === 0 ? 'even' : 'odd', ...(index % 10 === 0 ? ['tens'] : [])];
  return {
    index,
    name: nameOf(index),
    type: index % KV_EVERY === 0 ? 'kv' : 'arbitrary',
    labels,
    inGroup: index % GROUP_EVERY === 0,
    needle: index % 50 === 7,
  };
}

describe('Secrets Manager list paging over 450 secrets (SM v2 client, distributed stack)', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let sm: SecretsManagerClient;
  let groupId = '';
  const planned = Array.from({ length: TOTAL }, (_, index) => plan(index));
  const idByName = new Map<string, string>();

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    admin = await adminSession(stack, (await createAccountOverNats(stack, `${tag}-account`)).apikey);
    sm = (await provisionSecretsInstance(stack, nats, admin, tag)).sm;
    groupId = (await sm.createSecretGroup({ name: 'paged-group' })).result.id;
    await inParallel(planned, 8, async (p) => {
      const common = {
        name: p.name,
        labels: p.labels,
        ...(p.needle ? { description: `has the needle ${p.index}` } : {}),
        ...(p.inGroup ? { secret_group_id: groupId } : {}),
      };
      const created =
        p.type === 'kv'
          ? await sm.createSecret({ secret_type: 'kv', ...common, data: { index: p.index } })
          : await sm.createSecret({ secret_type: 'arbitrary', ...common, payload: `payload ${p.index}` });
      idByName.set(p.name, created.result.id);
    });
  }, 600_000);

  afterAll(async () => {
    await nats?.close();
  });

  it('pages of 100 followed through next.href return each of the 450 secrets exactly once; next is absent on the last page', async () => {
    const seen: string[] = [];
    const pages: W.SecretMetadataPaginatedCollection[] = [];
    let offset: number | undefined = 0;
    while (offset !== undefined) {
      const page: W.SecretMetadataPaginatedCollection = (await sm.listSecrets({ limit: PAGE, offset })).result;
      pages.push(page);
      seen.push(...page.secrets.map((secret) => secret.id));
      expect(pages.length, 'pages before next disappears').toBeLessThanOrEqual(Math.ceil(TOTAL / PAGE));
      offset = page.next === undefined ? undefined : Number(new URL(page.next.href, stack.gatewayUrl).searchParams.get('offset'));
    }

    expect(pages.map((page) => page.secrets.length)).toEqual([100, 100, 100, 100, 50]);
    expect(pages.map((page) => page.offset)).toEqual([0, 100, 200, 300, 400]);
    for (const page of pages) expect({ total: page.total_count, limit: page.limit }).toEqual({ total: TOTAL, limit: PAGE });
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
    expect(new Set(seen)).toEqual(new Set(idByName.values()));

    const [first] = pages;
    const last = pages.at(-1);
    expect(first?.previous).toBeUndefined();
    expect(first?.next).toBeDefined();
    expect(last?.next).toBeUndefined();
    expect(last?.previous).toBeDefined();
    expect(new URL(first?.first.href ?? '', stack.gatewayUrl).searchParams.get('offset') ?? '0').toBe('0');
    expect(new URL(first?.last.href ?? '', stack.gatewayUrl).searchParams.get('offset')).toBe('400');
    expect(new URL(first?.next?.href ?? '', stack.gatewayUrl).pathname).toBe(new URL(`${sm.baseUrl}/secrets`).pathname);
  });

  it("the client's pager (listSecretsAll) yields each secret exactly once", async () => {
    const ids: string[] = [];
    for await (const secret of sm.listSecretsAll({ limit: PAGE })) ids.push(secret.id);
    expect(ids).toHaveLength(TOTAL);
    expect(new Set(ids)).toEqual(new Set(idByName.values()));
  });

  it('uses limit 200 by default and answers limit 1000 in one page', async () => {
    const page = (await sm.listSecrets()).result;
    expect({ limit: page.limit, count: page.secrets.length, total: page.total_count }).toEqual({ limit: 200, count: 200, total: TOTAL });
    const all = (await sm.listSecrets({ limit: 1000 })).result;
    expect({ count: all.secrets.length, next: all.next }).toEqual({ count: TOTAL, next: undefined });
  });

  it('sorts by name both ways, and by created_at, across pages', async () => {
    const names = async (sort: W.SecretSort) => {
      const out: string[] = [];
      for await (const secret of sm.listSecretsAll({ limit: PAGE, sort })) out.push(secret.name);
      return out;
    };
    const ascending = planned.map((p) => p.name);
    expect(await names('name')).toEqual(ascending);
    expect(await names('-name')).toEqual([...ascending].reverse());

    const byCreated = (await sm.listSecrets({ limit: 1000, sort: 'created_at' })).result.secrets.map((s) => Date.parse(s.created_at));
    expect(byCreated).toEqual([...byCreated].sort((a, b) => a - b));
    const byCreatedDesc = (await sm.listSecrets({ limit: 1000, sort: '-created_at' })).result.secrets.map((s) => Date.parse(s.created_at));
    expect(byCreatedDesc).toEqual([...byCreatedDesc].sort((a, b) => b - a));

    const byType = (await sm.listSecrets({ limit: 1000, sort: 'secret_type' })).result.secrets.map((s) => s.secret_type);
    expect(byType).toEqual([...byType].sort());
  });

  it('searches names, descriptions and labels', async () => {
    const byName = (await sm.listSecrets({ search: nameOf(123) })).result;
    expect(byName.secrets.map((s) => s.name)).toEqual([nameOf(123)]);

    const needles = planned.filter((p) => p.needle).map((p) => p.name);
    const byDescription = (await sm.listSecrets({ search: 'needle', sort: 'name' })).result;
    expect(byDescription.secrets.map((s) => s.name)).toEqual(needles);
    expect(byDescription.total_count).toBe(needles.length);

    const byLabel = (await sm.listSecrets({ search: 'tens', limit: 1000 })).result;
    expect(byLabel.total_count).toBe(planned.filter((p) => p.labels.includes('tens')).length);
  });

  it('filters by secret_types, groups and match_all_labels (with paging inside the filter)', async () => {
    const kvNames = planned.filter((p) => p.type === 'kv').map((p) => p.name);
    const kv = (await sm.listSecrets({ secretTypes: ['kv'], sort: 'name', limit: 1000 })).result;
    expect(kv.secrets.map((s) => s.name)).toEqual(kvNames);
    expect(kv.secrets.every((s) => s.secret_type === 'kv')).toBe(true);

    const grouped = planned.filter((p) => p.inGroup).map((p) => p.name);
    const inGroup = (await sm.listSecrets({ groups: [groupId], sort: 'name', limit: 1000 })).result;
    expect(inGroup.secrets.map((s) => s.name)).toEqual(grouped);
    const inDefault = (await sm.listSecrets({ groups: ['default'], limit: 1 })).result;
    expect(inDefault.total_count).toBe(TOTAL - grouped.length);

    const evenTens = planned.filter((p) => p.labels.includes('even') && p.labels.includes('tens')).map((p) => p.name);
    const labelled: string[] = [];
    for await (const secret of sm.listSecretsAll({ matchAllLabels: ['even', 'tens'], sort: 'name', limit: 10 })) labelled.push(secret.name);
    expect(labelled).toEqual(evenTens);

    const both = (await sm.listSecrets({ secretTypes: ['kv'], groups: [groupId], limit: 1000 })).result;
    expect(both.total_count).toBe(planned.filter((p) => p.type === 'kv' && p.inGroup).length);
  });

  it('an offset past the end answers an empty last page (no next); a bad query answers 400 naming the parameter', async () => {
    const past = (await sm.listSecrets({ offset: 1000, limit: PAGE })).result;
    expect({ count: past.secrets.length, total: past.total_count, next: past.next }).toEqual({ count: 0, total: TOTAL, next: undefined });
    expect(statusCode(await smFailure(sm.listSecrets({ offset: -1 })))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await smFailure(sm.listSecrets({ limit: 1001 }))).fields).toContain('limit');
  });
});
