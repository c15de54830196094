/** Resource instances: list, create (Secrets Manager, Key Protect, HPCS), delete into reclamation, restore, reclaim. */
import type { KmsWire, LifecycleWire } from '@sealbox/contracts';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { hrefOf } from '../router.js';
import { ConfirmDialog, Dialog, EmptyState, ErrorBanner, formatTime, Spinner, useAction, useLoad } from '../ui.js';

type Instance = LifecycleWire.ResourceInstance;
type Reclamation = LifecycleWire.Reclamation;

export const SERVICE_LABELS: Readonly<Record<LifecycleWire.LifecycleServiceName, string>> = {
  'secrets-manager': 'Secrets Manager',
  kms: 'Key Protect',
  'hs-crypto': 'Hyper Protect Crypto Services',
};

const REGIONS = ['us-south', 'us-east', 'eu-de', 'eu-gb', 'eu-es', 'jp-tok', 'jp-osa', 'au-syd', 'ca-tor', 'br-sao'];
/** States that change on their own: the list is polled faster while one is shown. */
const TRANSIENT = new Set(['provisioning', 'pending_removal']);

export function isKeyService(service: string): boolean {
  return service === 'kms' || service === 'hs-crypto';
}

/** Every instance of the account, following next_url. */
export async function listInstances(session: Session, signal?: AbortSignal): Promise<Instance[]> {
  const instances: Instance[] = [];
  let path: string | null = '/v2/resource_instances?limit=100';
  while (path) {
    const page: LifecycleWire.ResourceInstancesList = await session.request('GET', path, { signal });
    instances.push(...page.resources);
    path = page.next_url;
  }
  return instances;
}

export function InstancesPage({ session }: { readonly session: Session }) {
  const list = useLoad(async (signal) => {
    const [instances, reclamations, plans] = await Promise.all([
      listInstances(session, signal),
      session.request<LifecycleWire.ReclamationsList>('GET', '/v1/reclamations', { signal }),
      session.request<LifecycleWire.PlanList>('GET', '/v1/plans', { signal }),
    ]);
    return { instances, reclamations: reclamations.resources, plans: plans.plans };
  }, []);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Instance>();
  const [reclaiming, setReclaiming] = useState<{ instance: Instance; reclamation: Reclamation }>();
  const restore = useAction();

  // States update live: poll, faster while something is changing.
  const transient = list.data?.instances.some((instance) => TRANSIENT.has(instance.state)) ?? false;
  useEffect(() => {
    const timer = setInterval(list.reload, transient ? 1000 : 5000);
    return () => clearInterval(timer);
  }, [transient]);

  const scheduled = (instance: Instance) =>
    list.data?.reclamations.find((reclamation) => reclamation.resource_instance_id === instance.guid && reclamation.state === 'SCHEDULED');

  return (
    <section aria-labelledby="instances-title">
      <div class="page-header">
        <h1 id="instances-title">Resource instances</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create instance
        </button>
      </div>
      <ErrorBanner error={list.error ?? restore.error} />
      {list.data === undefined ? (
        list.loading ? <Spinner label="Loading instances" /> : null
      ) : list.data.instances.length === 0 ? (
        <EmptyState title="No instances yet">
          Create a Key Protect instance for your root keys, then a Secrets Manager instance for your secrets. Press <strong>Create instance</strong>.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Service</th>
                <th scope="col">Plan</th>
                <th scope="col">Region</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.instances.map((instance) => {
                const reclamation = scheduled(instance);
                const service = instance.resource_id as LifecycleWire.LifecycleServiceName;
                const open = instance.state === 'active';
                return (
                  <tr key={instance.guid} data-instance={instance.name}>
                    <th scope="row">
                      {open ? (
                        <a href={hrefOf(isKeyService(service) ? { page: 'keys', instance: instance.guid } : { page: 'secrets', instance: instance.guid })}>{instance.name}</a>
                      ) : (
                        instance.name
                      )}
                    </th>
                    <td>{SERVICE_LABELS[service] ?? service}</td>
                    <td>{instance.resource_plan_id}</td>
                    <td>{instance.region_id}</td>
                    <td>
                      <span class={`state state-${instance.state}`}>{instance.state.replace(/_/g, ' ')}</span>
                      {reclamation ? <div class="hint">Reclamation scheduled for {formatTime(reclamation.target_time)}</div> : null}
                    </td>
                    <td>{formatTime(instance.created_at)}</td>
                    <td class="row-actions">
                      {reclamation ? (
                        <>
                          <button
                            type="button"
                            disabled={restore.busy}
                            aria-label={`Restore ${instance.name}`}
                            onClick={() =>
                              void restore.run(async () => {
                                await session.request('POST', `/v1/reclamations/${reclamation.id}/actions/restore`, { body: {} });
                                list.reload();
                              })
                            }
                          >
                            Restore
                          </button>
                          <button type="button" class="danger" aria-label={`Delete permanently ${instance.name}`} onClick={() => setReclaiming({ instance, reclamation })}>
                            Delete permanently
                          </button>
                        </>
                      ) : instance.state === 'active' || instance.state === 'failed' || instance.state === 'inactive' ? (
                        <button type="button" class="danger" aria-label={`Delete ${instance.name}`} onClick={() => setDeleting(instance)}>
                          Delete
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <CreateInstanceDialog session={session} open={creating} onClose={() => setCreating(false)} onCreated={list.reload} />
      <ConfirmDialog
        title="Delete instance"
        open={deleting !== undefined}
        confirmLabel="Delete"
        message={
          list.data?.plans.find((plan) => plan.id === deleting?.resource_plan_id)?.reclamation === false ? (
            <p>
              Delete <strong>{deleting?.name}</strong>? Its plan ({deleting?.resource_plan_id}) keeps no reclamation: the instance and all its data are deleted
              at once and cannot be restored.
            </p>
          ) : (
            <p>
              Delete <strong>{deleting?.name}</strong>? It is disabled at once and goes into reclamation: you can restore it, with all its data, until the
              reclamation's scheduled time; then it is deleted permanently.
            </p>
          )
        }
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `/v2/resource_instances/${deleting.guid}`);
          list.reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
      <ConfirmDialog
        title="Delete instance permanently"
        open={reclaiming !== undefined}
        confirmLabel="Delete permanently"
        typedName={reclaiming?.instance.name ?? ''}
        message={
          <p>
            This deletes <strong>{reclaiming?.instance.name}</strong> now, with every secret, version and key registration in it. It cannot be undone.
          </p>
        }
        onConfirm={async () => {
          if (reclaiming) await session.request('POST', `/v1/reclamations/${reclaiming.reclamation.id}/actions/reclaim`, { body: {} });
          list.reload();
        }}
        onClose={() => setReclaiming(undefined)}
      />
    </section>
  );
}

/** The root keys the user can choose from: every active key of every Key Protect / HPCS instance they can list. */
async function rootKeyChoices(session: Session, region: string): Promise<{ crn: string; label: string }[]> {
  const instances = (await listInstances(session)).filter((instance) => isKeyService(instance.resource_id) && instance.state === 'active' && instance.region_id === region);
  const choices: { crn: string; label: string }[] = [];
  for (const instance of instances) {
    try {
      const keys = await session.request<KmsWire.KeyCollection>('GET', '/kms/api/v2/keys', { headers: { 'bluemix-instance': instance.guid } });
      for (const key of keys.resources ?? []) {
        if (!key.extractable && key.state === 1) choices.push({ crn: key.crn, label: `${key.name} (${instance.name})` });
      }
    } catch {
      // An instance whose keys this user may not list offers none.
    }
  }
  return choices;
}

function CreateInstanceDialog({ session, open, onClose, onCreated }: { readonly session: Session; readonly open: boolean; readonly onClose: () => void; readonly onCreated: () => void }) {
  const [name, setName] = useState('');
  const [service, setService] = useState<LifecycleWire.LifecycleServiceName>('secrets-manager');
  const [plan, setPlan] = useState('');
  const [region, setRegion] = useState('us-south');
  const [rootKey, setRootKey] = useState('');
  const action = useAction();
  const plans = useLoad((signal) => session.request<LifecycleWire.PlanList>('GET', '/v1/plans', { signal }), []);
  const keys = useLoad(() => (open && service === 'secrets-manager' ? rootKeyChoices(session, region) : Promise.resolve([])), [open, service, region]);
  const plansOfService = (plans.data?.plans ?? []).filter((candidate) => candidate.service === service && !candidate.retired);
  useEffect(() => {
    // A plan whose deleted instances can be restored comes first.
    if (!plansOfService.some((candidate) => candidate.id === plan)) setPlan((plansOfService.find((candidate) => candidate.reclamation) ?? plansOfService[0])?.id ?? '');
  }, [service, plans.data]);
  useEffect(() => {
    if (open) {
      setName('');
      setRootKey('');
      action.clear();
    }
  }, [open]);

  return (
    <Dialog title="Create instance" open={open} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.request('POST', '/v2/resource_instances', {
              body: {
                name,
                target: region,
                resource_group: 'default',
                resource_plan_id: plan,
                ...(service === 'secrets-manager' && rootKey ? { parameters: { kms_key: rootKey } } : {}),
              },
            });
            onCreated();
            onClose();
          });
        }}
      >
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} maxLength={180} />
        </label>
        <fieldset class="field">
          <legend>Service</legend>
          {(Object.keys(SERVICE_LABELS) as LifecycleWire.LifecycleServiceName[]).map((candidate) => (
            <label class="choice" key={candidate}>
              <input type="radio" name="service" value={candidate} checked={service === candidate} onChange={() => setService(candidate)} /> {SERVICE_LABELS[candidate]}
            </label>
          ))}
        </fieldset>
        <label class="field">
          <span>Plan</span>
          <select value={plan} onChange={(event) => setPlan(event.currentTarget.value)} required>
            {plansOfService.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.name} ({candidate.id}){candidate.reclamation ? `, restorable for ${Math.round(candidate.retentionSeconds / 86400)} days after delete` : ''}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Region</span>
          <input list="regions" value={region} onInput={(event) => setRegion(event.currentTarget.value)} required />
          <datalist id="regions">
            {REGIONS.map((candidate) => (
              <option key={candidate} value={candidate} />
            ))}
          </datalist>
        </label>
        {service === 'secrets-manager' ? (
          <label class="field">
            <span>Root key (optional)</span>
            <select value={rootKey} onChange={(event) => setRootKey(event.currentTarget.value)}>
              <option value="">Provider-managed encryption</option>
              {(keys.data ?? []).map((key) => (
                <option key={key.crn} value={key.crn}>
                  {key.label}
                </option>
              ))}
            </select>
            <small class="hint">
              A root key of your own Key Protect or HPCS instance in the same region encrypts this instance's data keys. Secrets Manager must be authorized
              first: an authorization policy (Access → Authorizations) from Secrets Manager to that key instance with the Reader role.
            </small>
          </label>
        ) : null}
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy || !plan}>
            {action.busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
