/** Access: service IDs, API keys (shown once), access policies, authorization policies, and what the signed-in identity may do. */
import type { LifecycleWire } from '@sealbox/contracts';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { ConfirmDialog, CopyButton, Dialog, EmptyState, ErrorBanner, formatTime, Spinner, useAction, useLoad } from '../ui.js';
import type { ApiKey, ApiKeyList, Policy, PolicyList, RoleList, ServiceId, ServiceIdList } from '../wire.js';
import { listInstances, SERVICE_LABELS } from './instances.js';

type Tab = 'serviceids' | 'apikeys' | 'policies' | 'authorizations' | 'mine';
const TABS: readonly { readonly id: Tab; readonly label: string }[] = [
  { id: 'serviceids', label: 'Service IDs' },
  { id: 'apikeys', label: 'API keys' },
  { id: 'policies', label: 'Access policies' },
  { id: 'authorizations', label: 'Authorizations' },
  { id: 'mine', label: 'My access' },
];

/** Services an access policy can name, with what they are. */
const POLICY_SERVICES: readonly { readonly name: string; readonly label: string }[] = [
  { name: 'secrets-manager', label: 'Secrets Manager' },
  { name: 'kms', label: 'Key Protect' },
  { name: 'hs-crypto', label: 'Hyper Protect Crypto Services' },
  { name: 'resource-controller', label: 'Resource Controller (instances)' },
  { name: 'iam-identity', label: 'IAM Identity (service IDs, API keys)' },
  { name: 'iam-access-management', label: 'IAM Access Management (policies)' },
  { name: 'event-stream', label: 'Event stream' },
];

const attribute = (policy: Policy, name: string, part: 'subjects' | 'resources' = 'resources') =>
  policy[part][0]?.attributes.find((candidate) => candidate.name === name)?.value;
const roleNames = (policy: Policy) => policy.roles.map((role) => role.display_name ?? role.role_id.split(':').pop() ?? role.role_id).join(', ');

export function AccessPage({ session }: { readonly session: Session }) {
  const [tab, setTab] = useState<Tab>('serviceids');
  const account = session.identity?.accountId ?? '';
  const serviceIds = useLoad((signal) => session.request<ServiceIdList>('GET', '/v1/serviceids', { signal, query: { account_id: account } }), [account]);
  const instances = useLoad((signal) => listInstances(session, signal), []);
  return (
    <section aria-labelledby="access-title">
      <div class="page-header">
        <h1 id="access-title">Access</h1>
      </div>
      <div class="tabs" role="tablist" aria-label="Access sections">
        {TABS.map((candidate) => (
          <button
            type="button"
            role="tab"
            key={candidate.id}
            id={`tab-${candidate.id}`}
            aria-selected={tab === candidate.id}
            aria-controls={`panel-${candidate.id}`}
            onClick={() => setTab(candidate.id)}
          >
            {candidate.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'serviceids' ? <ServiceIds session={session} list={serviceIds.data?.serviceids} error={serviceIds.error} reload={serviceIds.reload} /> : null}
        {tab === 'apikeys' ? <ApiKeys session={session} serviceIds={serviceIds.data?.serviceids ?? []} /> : null}
        {tab === 'policies' ? <Policies session={session} type="access" serviceIds={serviceIds.data?.serviceids ?? []} instances={instances.data ?? []} /> : null}
        {tab === 'authorizations' ? <Policies session={session} type="authorization" serviceIds={[]} instances={instances.data ?? []} /> : null}
        {tab === 'mine' ? <MyAccess session={session} /> : null}
      </div>
    </section>
  );
}

function ServiceIds({ session, list, error, reload }: { readonly session: Session; readonly list: readonly ServiceId[] | undefined; readonly error: unknown; readonly reload: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [deleting, setDeleting] = useState<ServiceId>();
  const action = useAction();
  return (
    <>
      <p class="hint">A service ID is the identity of an application: give it API keys and access policies.</p>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.request('POST', '/v1/serviceids', { body: { account_id: session.identity?.accountId, name, ...(description ? { description } : {}) } });
            setName('');
            setDescription('');
            reload();
          });
        }}
      >
        <label class="field">
          <span>Service ID name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Service ID description</span>
          <input value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Create service ID
        </button>
      </form>
      <ErrorBanner error={error ?? action.error} />
      {list === undefined ? (
        <Spinner label="Loading service IDs" />
      ) : list.length === 0 ? (
        <EmptyState title="No service IDs yet">Create one above for each application that calls the API.</EmptyState>
      ) : (
        <div class="table-wrap">
          <table aria-label="Service IDs">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">IAM ID</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((serviceId) => (
                <tr key={serviceId.id}>
                  <th scope="row">{serviceId.name}</th>
                  <td class="mono">{serviceId.iam_id}</td>
                  <td>{serviceId.description}</td>
                  <td>{formatTime(serviceId.created_at)}</td>
                  <td class="row-actions">
                    <button type="button" class="danger" aria-label={`Delete service ID ${serviceId.name}`} onClick={() => setDeleting(serviceId)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        title="Delete service ID"
        open={deleting !== undefined}
        confirmLabel="Delete"
        typedName={deleting?.name ?? ''}
        message={<p>Delete {deleting?.name}? Its API keys stop working at once.</p>}
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `/v1/serviceids/${deleting.id}`);
          reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
    </>
  );
}

function ApiKeys({ session, serviceIds }: { readonly session: Session; readonly serviceIds: readonly ServiceId[] }) {
  const me = session.identity?.iamId ?? '';
  const account = session.identity?.accountId ?? '';
  const list = useLoad((signal) => session.request<ApiKeyList>('GET', '/v1/apikeys', { signal, query: { account_id: account } }), [account]);
  const [name, setName] = useState('');
  const [owner, setOwner] = useState(me);
  const [created, setCreated] = useState<ApiKey>();
  const [deleting, setDeleting] = useState<ApiKey>();
  const action = useAction();
  const ownerName = (iamId: string) => (iamId === me ? 'you' : (serviceIds.find((candidate) => candidate.iam_id === iamId)?.name ?? iamId));
  return (
    <>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const key = await session.request<ApiKey>('POST', '/v1/apikeys', { body: { name, iam_id: owner, account_id: account } });
            setName('');
            setCreated(key);
            list.reload();
          });
        }}
      >
        <label class="field">
          <span>API key name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>For</span>
          <select value={owner} onChange={(event) => setOwner(event.currentTarget.value)}>
            <option value={me}>Me</option>
            {serviceIds.map((serviceId) => (
              <option key={serviceId.id} value={serviceId.iam_id}>
                Service ID {serviceId.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Create API key
        </button>
      </form>
      <ErrorBanner error={list.error ?? action.error} />
      {list.data === undefined ? (
        <Spinner label="Loading API keys" />
      ) : list.data.apikeys.length === 0 ? (
        <EmptyState title="No API keys">Create one above; its value is shown once.</EmptyState>
      ) : (
        <div class="table-wrap">
          <table aria-label="API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">ID</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.apikeys.map((key) => (
                <tr key={key.id}>
                  <th scope="row">{key.name}</th>
                  <td>{ownerName(key.iam_id)}</td>
                  <td class="mono">{key.id}</td>
                  <td>{formatTime(key.created_at)}</td>
                  <td class="row-actions">
                    <button type="button" class="danger" aria-label={`Delete API key ${key.name}`} onClick={() => setDeleting(key)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title="API key created" open={created !== undefined} onClose={() => setCreated(undefined)}>
        <p class="warning" role="alert">
          Copy the key now: this is the only time it is shown. Sealbox keeps only a hash of it.
        </p>
        <p>
          <strong>{created?.name}</strong>
        </p>
        <pre class="secret-value" data-apikey-value="">{created?.apikey}</pre>
        <div class="actions">
          <CopyButton value={() => created?.apikey ?? ''} label="Copy API key" />
          <button type="button" class="primary" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      </Dialog>
      <ConfirmDialog
        title="Delete API key"
        open={deleting !== undefined}
        confirmLabel="Delete"
        message={<p>Delete the API key {deleting?.name}? It is revoked at once: tokens made from it stop working within a second.</p>}
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `/v1/apikeys/${deleting.id}`);
          list.reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
    </>
  );
}

function Policies({ session, type, serviceIds, instances }: { readonly session: Session; readonly type: 'access' | 'authorization'; readonly serviceIds: readonly ServiceId[]; readonly instances: readonly LifecycleWire.ResourceInstance[] }) {
  const account = session.identity?.accountId ?? '';
  const list = useLoad((signal) => session.request<PolicyList>('GET', '/v1/policies', { signal, query: { account_id: account, type } }), [account, type]);
  const [subject, setSubject] = useState('');
  const [source, setSource] = useState('secrets-manager');
  const [service, setService] = useState(type === 'authorization' ? 'kms' : 'secrets-manager');
  const [instance, setInstance] = useState('');
  const [roles, setRoles] = useState<string[]>(type === 'authorization' ? ['crn:v1:bluemix:public:iam::::serviceRole:Reader'] : []);
  const [deleting, setDeleting] = useState<Policy>();
  const action = useAction();
  const roleList = useLoad((signal) => session.request<RoleList>('GET', '/v2/roles', { signal, query: { service_name: service, account_id: account } }), [service, account]);
  useEffect(() => setInstance(''), [service]);
  const available = [...(roleList.data?.system_roles ?? []), ...(roleList.data?.service_roles ?? [])].filter((role) => type === 'access' || role.crn.includes(':serviceRole:'));
  const serviceInstances = instances.filter((candidate) => candidate.resource_id === service);
  const subjectName = (policy: Policy) => {
    const iamId = attribute(policy, 'iam_id', 'subjects');
    if (iamId) return serviceIds.find((candidate) => candidate.iam_id === iamId)?.name ?? iamId;
    return attribute(policy, 'serviceName', 'subjects') ?? '';
  };
  const instanceName = (guid: string | undefined) => (guid ? (instances.find((candidate) => candidate.guid === guid)?.name ?? guid) : 'all instances');

  return (
    <>
      <p class="hint">
        {type === 'access'
          ? 'An access policy gives an identity roles on a service, or on one instance of it.'
          : 'An authorization lets one service use another: Secrets Manager needs Reader on a Key Protect or HPCS instance before an instance can be created with one of its root keys.'}
      </p>
      <form
        class="panel"
        aria-label={type === 'access' ? 'Grant access' : 'Authorize a service'}
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const subjects =
              type === 'access'
                ? [{ attributes: [{ name: 'iam_id', value: subject }] }]
                : [{ attributes: [{ name: 'accountId', value: account }, { name: 'serviceName', value: source }] }];
            const resource = [{ name: 'accountId', value: account }, { name: 'serviceName', value: service }, ...(instance ? [{ name: 'serviceInstance', value: instance }] : [])];
            await session.request('POST', '/v1/policies', { body: { type, subjects, roles: roles.map((role_id) => ({ role_id })), resources: [{ attributes: resource }] } });
            list.reload();
          });
        }}
      >
        <div class="grid-2">
          {type === 'access' ? (
            <label class="field">
              <span>Subject</span>
              <select required value={subject} onChange={(event) => setSubject(event.currentTarget.value)}>
                <option value="">Choose a service ID</option>
                {serviceIds.map((candidate) => (
                  <option key={candidate.id} value={candidate.iam_id}>
                    {candidate.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label class="field">
              <span>Source service</span>
              <select value={source} onChange={(event) => setSource(event.currentTarget.value)}>
                <option value="secrets-manager">Secrets Manager</option>
              </select>
            </label>
          )}
          <label class="field">
            <span>{type === 'access' ? 'Service' : 'Target service'}</span>
            <select value={service} onChange={(event) => setService(event.currentTarget.value)}>
              {POLICY_SERVICES.filter((candidate) => type === 'access' || candidate.name === 'kms' || candidate.name === 'hs-crypto').map((candidate) => (
                <option key={candidate.name} value={candidate.name}>
                  {candidate.label}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Instance</span>
            <select value={instance} onChange={(event) => setInstance(event.currentTarget.value)}>
              <option value="">All instances</option>
              {serviceInstances.map((candidate) => (
                <option key={candidate.guid} value={candidate.guid}>
                  {candidate.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <fieldset class="field">
          <legend>Roles</legend>
          {available.map((role) => (
            <label class="choice" key={role.crn} title={role.description}>
              <input
                type="checkbox"
                checked={roles.includes(role.crn)}
                onChange={(event) => setRoles(event.currentTarget.checked ? [...roles, role.crn] : roles.filter((candidate) => candidate !== role.crn))}
              />{' '}
              {role.display_name}
            </label>
          ))}
        </fieldset>
        <ErrorBanner error={action.error ?? roleList.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy || roles.length === 0}>
            {type === 'access' ? 'Grant access' : 'Authorize'}
          </button>
        </div>
      </form>
      <ErrorBanner error={list.error} />
      {list.data === undefined ? (
        <Spinner label="Loading policies" />
      ) : list.data.policies.length === 0 ? (
        <EmptyState title={type === 'access' ? 'No access policies' : 'No authorizations'}>{type === 'access' ? 'Grant roles to a service ID above.' : 'Authorize Secrets Manager to a key instance above.'}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table aria-label={type === 'access' ? 'Access policies' : 'Authorizations'}>
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Service</th>
                <th scope="col">Instance</th>
                <th scope="col">Roles</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.policies.map((policy) => {
                const serviceName = attribute(policy, 'serviceName') ?? '';
                return (
                  <tr key={policy.id}>
                    <th scope="row">{subjectName(policy)}</th>
                    <td>{SERVICE_LABELS[serviceName as LifecycleWire.LifecycleServiceName] ?? serviceName}</td>
                    <td>{instanceName(attribute(policy, 'serviceInstance'))}</td>
                    <td>{roleNames(policy)}</td>
                    <td>{formatTime(policy.created_at)}</td>
                    <td class="row-actions">
                      <button type="button" class="danger" aria-label={`Delete policy ${policy.id}`} onClick={() => setDeleting(policy)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        title="Delete policy"
        open={deleting !== undefined}
        confirmLabel="Delete"
        message={<p>Delete this policy? The roles it grants are withdrawn at once.</p>}
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `/v1/policies/${deleting.id}`);
          list.reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
    </>
  );
}

/** What the signed-in identity may do: the policies that name it, with their roles. */
function MyAccess({ session }: { readonly session: Session }) {
  const identity = session.identity;
  const list = useLoad(
    (signal) => session.request<PolicyList>('GET', '/v1/policies', { signal, query: { account_id: identity?.accountId, iam_id: identity?.iamId, type: 'access' } }),
    [identity?.iamId],
  );
  return (
    <>
      <dl class="props panel">
        <dt>IAM ID</dt>
        <dd class="mono">{identity?.iamId}</dd>
        <dt>Account</dt>
        <dd class="mono">{identity?.accountId}</dd>
        <dt>Kind</dt>
        <dd>{identity?.subType === 'ServiceId' ? 'Service ID' : 'User'}</dd>
        <dt>Session until</dt>
        <dd>{identity ? new Date(identity.expiresAt).toLocaleString() : ''} (renewed automatically)</dd>
      </dl>
      <ErrorBanner error={list.error} />
      {list.data === undefined ? (
        list.error ? null : <Spinner label="Loading your policies" />
      ) : list.data.policies.length === 0 ? (
        <EmptyState title="No policy names you directly">An account administrator may still act on everything in the account.</EmptyState>
      ) : (
        <ul>
          {list.data.policies.map((policy) => (
            <li key={policy.id}>
              {roleNames(policy)} on {attribute(policy, 'serviceName')} {attribute(policy, 'serviceInstance') ? `instance ${attribute(policy, 'serviceInstance')}` : '(all instances)'}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
