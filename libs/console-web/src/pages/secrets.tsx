/** Secrets of one Secrets Manager instance: the list, groups, one secret (payload, versions, locks, metadata). */
import type { LifecycleWire, SecretsWire } from '@sealbox/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api.js';
import type { ServiceIdList } from '../wire.js';
import { hrefOf, navigate } from '../router.js';
import { initialValues, jsonObjectOf, ROTATABLE, SECRET_TYPE_NAMES, SECRET_TYPES, visible, type FieldSpec, type FormValues, type SecretType } from '../secret-types.js';
import { ConfirmDialog, CopyButton, Dialog, EmptyState, ErrorBanner, formatTime, Spinner, useAction, useLoad } from '../ui.js';

type Metadata = SecretsWire.SecretMetadata;
const PAGE_SIZE = 20;
/** A revealed payload hides itself after this long. */
export const REVEAL_MS = 30_000;

const base = (instance: string) => `/secrets-manager/${encodeURIComponent(instance)}/api/v2`;

export function SecretsPage({ session, instance, secretId }: { readonly session: Session; readonly instance: string; readonly secretId: string | undefined }) {
  const details = useLoad((signal) => session.request<LifecycleWire.ResourceInstance>('GET', `/v2/resource_instances/${instance}`, { signal }), [instance]);
  const groups = useLoad((signal) => session.request<SecretsWire.SecretGroupCollection>('GET', `${base(instance)}/secret_groups`, { signal }), [instance]);
  const name = details.data?.name ?? instance;
  return (
    <section aria-labelledby="secrets-title">
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <a href={hrefOf({ page: 'instances' })}>Instances</a> › {secretId ? <a href={hrefOf({ page: 'secrets', instance })}>{name}</a> : name}
      </nav>
      <ErrorBanner error={details.error} />
      {secretId ? (
        <SecretDetail session={session} instance={instance} secretId={secretId} groups={groups.data?.secret_groups ?? []} />
      ) : (
        <SecretsHome session={session} instance={instance} name={name} groups={groups.data?.secret_groups ?? []} reloadGroups={groups.reload} />
      )}
    </section>
  );
}

function SecretsHome(props: { readonly session: Session; readonly instance: string; readonly name: string; readonly groups: readonly SecretsWire.SecretGroup[]; readonly reloadGroups: () => void }) {
  const [tab, setTab] = useState<'secrets' | 'groups'>('secrets');
  return (
    <>
      <div class="page-header">
        <h1 id="secrets-title">{props.name}: secrets</h1>
      </div>
      <div class="tabs" role="tablist" aria-label="Sections">
        <button type="button" role="tab" id="tab-secrets" aria-selected={tab === 'secrets'} aria-controls="panel-secrets" onClick={() => setTab('secrets')}>
          Secrets
        </button>
        <button type="button" role="tab" id="tab-groups" aria-selected={tab === 'groups'} aria-controls="panel-groups" onClick={() => setTab('groups')}>
          Groups
        </button>
      </div>
      {tab === 'secrets' ? (
        <div role="tabpanel" id="panel-secrets" aria-labelledby="tab-secrets">
          <SecretList {...props} />
        </div>
      ) : (
        <div role="tabpanel" id="panel-groups" aria-labelledby="tab-groups">
          <Groups session={props.session} instance={props.instance} groups={props.groups} reload={props.reloadGroups} />
        </div>
      )}
    </>
  );
}

function SecretList({ session, instance, groups }: { readonly session: Session; readonly instance: string; readonly groups: readonly SecretsWire.SecretGroup[] }) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [type, setType] = useState('');
  const [group, setGroup] = useState('');
  const [sort, setSort] = useState<SecretsWire.SecretSort>('name');
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  // Search as the user types, once they pause.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(search.trim());
      setOffset(0);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);
  const list = useLoad(
    (signal) =>
      session.request<SecretsWire.SecretMetadataPaginatedCollection>('GET', `${base(instance)}/secrets`, {
        signal,
        query: { limit: PAGE_SIZE, offset, sort, search: query, secret_types: type, groups: group },
      }),
    [instance, offset, sort, query, type, group],
  );
  const groupName = (id: string) => groups.find((candidate) => candidate.id === id)?.name ?? id;
  const filtered = query !== '' || type !== '' || group !== '';

  return (
    <>
      <div class="toolbar">
        <label class="field">
          <span>Search</span>
          <input type="search" value={search} onInput={(event) => setSearch(event.currentTarget.value)} placeholder="Name, label, description" />
        </label>
        <label class="field">
          <span>Type</span>
          <select value={type} onChange={(event) => (setType(event.currentTarget.value), setOffset(0))}>
            <option value="">All types</option>
            {SECRET_TYPE_NAMES.map((name) => (
              <option key={name} value={name}>
                {SECRET_TYPES[name].label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Group</span>
          <select value={group} onChange={(event) => (setGroup(event.currentTarget.value), setOffset(0))}>
            <option value="">All groups</option>
            {groups.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Sort by</span>
          <select value={sort} onChange={(event) => setSort(event.currentTarget.value as SecretsWire.SecretSort)}>
            <option value="name">Name (A–Z)</option>
            <option value="-name">Name (Z–A)</option>
            <option value="-created_at">Newest first</option>
            <option value="created_at">Oldest first</option>
            <option value="-updated_at">Recently updated</option>
            <option value="secret_type">Type</option>
            <option value="expiration_date">Expiration</option>
          </select>
        </label>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create secret
        </button>
      </div>
      <ErrorBanner error={list.error} />
      {list.data === undefined ? (
        list.loading ? <Spinner label="Loading secrets" /> : null
      ) : list.data.secrets.length === 0 ? (
        filtered ? (
          <EmptyState title="No secret matches">Change the search or the filters.</EmptyState>
        ) : (
          <EmptyState title="No secrets yet">
            Press <strong>Create secret</strong> to store a password, a key-value document, a certificate or any other value.
          </EmptyState>
        )
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Group</th>
                  <th scope="col">State</th>
                  <th scope="col">Versions</th>
                  <th scope="col">Locks</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.secrets.map((secret) => (
                  <tr key={secret.id}>
                    <th scope="row">
                      <a href={hrefOf({ page: 'secrets', instance, secret: secret.id })}>{secret.name}</a>
                      {secret.labels.length ? <div class="hint">{secret.labels.join(', ')}</div> : null}
                    </th>
                    <td>{SECRET_TYPES[secret.secret_type].label}</td>
                    <td>{groupName(secret.secret_group_id)}</td>
                    <td>
                      <span class={`state state-${secret.state_description}`}>{secret.state_description.replace(/_/g, ' ')}</span>
                    </td>
                    <td>{secret.versions_total}</td>
                    <td>{secret.locks_total}</td>
                    <td>{formatTime(secret.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="pager" aria-label="Pages">
            <span>
              {offset + 1}–{offset + list.data.secrets.length} of {list.data.total_count}
            </span>
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
              Previous page
            </button>
            <button type="button" disabled={offset + PAGE_SIZE >= list.data.total_count} onClick={() => setOffset(offset + PAGE_SIZE)}>
              Next page
            </button>
          </div>
        </>
      )}
      <CreateSecretDialog
        session={session}
        instance={instance}
        groups={groups}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => navigate({ page: 'secrets', instance, secret: id })}
      />
    </>
  );
}

/** The fields of a type's form, rendered from its registry entry. */
function Fields({ fields, values, onChange, session }: { readonly fields: readonly FieldSpec[]; readonly values: FormValues; readonly onChange: (name: string, value: string | boolean) => void; readonly session: Session }) {
  return (
    <>
      {fields
        .filter((field) => visible(field, values))
        .map((field) => {
          const value = values[field.name];
          const id = `field-${field.name}`;
          const hint = field.hint ? <small class="hint">{field.hint}</small> : null;
          switch (field.kind) {
            case 'checkbox':
              return (
                <label class="choice field" key={field.name}>
                  <input type="checkbox" checked={value === true} onChange={(event) => onChange(field.name, event.currentTarget.checked)} /> {field.label}
                </label>
              );
            case 'textarea':
              return (
                <label class="field" key={field.name}>
                  <span>{field.label}</span>
                  <textarea id={id} required={field.required} value={String(value ?? '')} onInput={(event) => onChange(field.name, event.currentTarget.value)} spellcheck={false} />
                  {hint}
                </label>
              );
            case 'service-id':
              return <ServiceIdField key={field.name} session={session} label={field.label} value={String(value ?? '')} onChange={(next) => onChange(field.name, next)} hint={field.hint} />;
            default:
              return (
                <label class="field" key={field.name}>
                  <span>{field.label}</span>
                  <input
                    id={id}
                    type={field.kind === 'secret' ? 'password' : field.kind === 'datetime' ? 'datetime-local' : field.kind === 'number' ? 'number' : 'text'}
                    autoComplete={field.kind === 'secret' ? 'new-password' : 'off'}
                    required={field.required}
                    value={String(value ?? '')}
                    onInput={(event) => onChange(field.name, event.currentTarget.value)}
                  />
                  {hint}
                </label>
              );
          }
        })}
    </>
  );
}

function ServiceIdField({ session, label, value, onChange, hint }: { readonly session: Session; readonly label: string; readonly value: string; readonly onChange: (value: string) => void; readonly hint: string | undefined }) {
  const ids = useLoad(
    (signal) => session.request<ServiceIdList>('GET', '/v1/serviceids', { signal, query: { account_id: session.identity?.accountId } }),
    [],
  );
  return (
    <label class="field">
      <span>{label}</span>
      <select required value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">Choose a service ID</option>
        {(ids.data?.serviceids ?? []).map((serviceId) => (
          <option key={serviceId.id} value={serviceId.id}>
            {serviceId.name}
          </option>
        ))}
      </select>
      {hint ? <small class="hint">{hint}</small> : null}
      <ErrorBanner error={ids.error} />
    </label>
  );
}

function CreateSecretDialog(props: {
  readonly session: Session;
  readonly instance: string;
  readonly groups: readonly SecretsWire.SecretGroup[];
  readonly open: boolean;
  readonly onClose: () => void;
  readonly onCreated: (id: string) => void;
}) {
  const [type, setType] = useState<SecretType>('arbitrary');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [group, setGroup] = useState('default');
  const [labels, setLabels] = useState('');
  const [values, setValues] = useState<Record<string, string | boolean>>(() => initialValues(SECRET_TYPES.arbitrary.fields));
  const action = useAction();
  useEffect(() => {
    if (props.open) {
      setName('');
      setDescription('');
      setLabels('');
      setValues(initialValues(SECRET_TYPES[type].fields));
      action.clear();
    }
  }, [props.open]);
  const spec = SECRET_TYPES[type];
  return (
    <Dialog title="Create secret" open={props.open} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const body = {
              secret_type: type,
              name,
              ...(description.trim() ? { description } : {}),
              secret_group_id: group,
              labels: labels.split(',').map((label) => label.trim()).filter(Boolean),
              ...spec.body(values),
            };
            const created = await props.session.request<Metadata>('POST', `${base(props.instance)}/secrets`, { body });
            setValues(initialValues(spec.fields));
            props.onClose();
            props.onCreated(created.id);
          });
        }}
      >
        <label class="field">
          <span>Secret type</span>
          <select
            value={type}
            onChange={(event) => {
              const next = event.currentTarget.value as SecretType;
              setType(next);
              setValues(initialValues(SECRET_TYPES[next].fields));
            }}
          >
            {SECRET_TYPE_NAMES.map((candidate) => (
              <option key={candidate} value={candidate}>
                {SECRET_TYPES[candidate].label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} maxLength={256} pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*" title="Letters, digits, '-', '_' and '.'" />
        </label>
        <label class="field">
          <span>Description (optional)</span>
          <input value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </label>
        <div class="grid-2">
          <label class="field">
            <span>Group</span>
            <select value={group} onChange={(event) => setGroup(event.currentTarget.value)}>
              <option value="default">default</option>
              {props.groups.map((candidate) => (
                <option key={candidate.id} value={candidate.id}>
                  {candidate.name}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Labels (comma-separated, optional)</span>
            <input value={labels} onInput={(event) => setLabels(event.currentTarget.value)} />
          </label>
        </div>
        <Fields fields={spec.fields} values={values} onChange={(field, value) => setValues({ ...values, [field]: value })} session={props.session} />
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy}>
            {action.busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Groups({ session, instance, groups, reload }: { readonly session: Session; readonly instance: string; readonly groups: readonly SecretsWire.SecretGroup[]; readonly reload: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [deleting, setDeleting] = useState<SecretsWire.SecretGroup>();
  const action = useAction();
  return (
    <>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.request('POST', `${base(instance)}/secret_groups`, { body: { name, ...(description ? { description } : {}) } });
            setName('');
            setDescription('');
            reload();
          });
        }}
      >
        <label class="field">
          <span>Group name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Group description</span>
          <input value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Create group
        </button>
      </form>
      <ErrorBanner error={action.error} />
      {groups.length === 0 ? (
        <EmptyState title="Only the default group">Groups gather secrets that the same people or applications may use. Create one above.</EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">ID</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.map((group) => (
                <tr key={group.id}>
                  <th scope="row">{group.name}</th>
                  <td>{group.description ?? ''}</td>
                  <td class="mono">{group.id}</td>
                  <td>{formatTime(group.created_at)}</td>
                  <td class="row-actions">
                    <button type="button" class="danger" aria-label={`Delete group ${group.name}`} onClick={() => setDeleting(group)}>
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
        title="Delete group"
        open={deleting !== undefined}
        confirmLabel="Delete"
        message={<p>Delete the group {deleting?.name}? Only an empty group can be deleted.</p>}
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `${base(instance)}/secret_groups/${deleting.id}`);
          reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
    </>
  );
}

/** The value fields of a secret as its type lists them, as text. */
function valueOf(secret: Record<string, unknown>, type: SecretType): [string, string][] {
  return SECRET_TYPES[type].valueFields
    .filter((name) => secret[name] !== undefined)
    .map((name) => {
      const value = secret[name];
      return [name, typeof value === 'string' ? value : JSON.stringify(value, null, 2)];
    });
}

function SecretDetail({ session, instance, secretId, groups }: { readonly session: Session; readonly instance: string; readonly secretId: string; readonly groups: readonly SecretsWire.SecretGroup[] }) {
  const path = `${base(instance)}/secrets/${encodeURIComponent(secretId)}`;
  const metadata = useLoad((signal) => session.request<Metadata>('GET', `${path}/metadata`, { signal }), [path]);
  const versions = useLoad((signal) => session.request<SecretsWire.SecretVersionMetadataCollection>('GET', `${path}/versions`, { signal }), [path]);
  const locks = useLoad((signal) => session.request<SecretsWire.SecretLocksPaginatedCollection>('GET', `${path}/locks`, { signal }), [path]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [versioning, setVersioning] = useState(false);
  const [versionEditing, setVersionEditing] = useState<SecretsWire.SecretVersionMetadata>();
  const reloadAll = () => {
    metadata.reload();
    versions.reload();
    locks.reload();
  };
  if (!metadata.data) return metadata.error ? <ErrorBanner error={metadata.error} /> : <Spinner label="Loading secret" />;
  const secret = metadata.data;
  const group = secret.secret_group_id === 'default' ? 'default' : (groups.find((candidate) => candidate.id === secret.secret_group_id)?.name ?? secret.secret_group_id);
  return (
    <>
      <div class="page-header">
        <h1 id="secrets-title">{secret.name}</h1>
        <button type="button" onClick={() => setEditing(true)}>
          Edit metadata
        </button>
        <button type="button" class="danger" onClick={() => setDeleting(true)}>
          Delete secret
        </button>
      </div>
      <div class="grid-2">
        <div class="panel">
          <h2>Details</h2>
          <dl class="props">
            <dt>Type</dt>
            <dd>{SECRET_TYPES[secret.secret_type].label}</dd>
            <dt>ID</dt>
            <dd class="mono">{secret.id}</dd>
            <dt>Group</dt>
            <dd>{group}</dd>
            <dt>State</dt>
            <dd>{secret.state_description.replace(/_/g, ' ')}</dd>
            <dt>Description</dt>
            <dd>{secret.description ?? '—'}</dd>
            <dt>Labels</dt>
            <dd>{secret.labels.join(', ') || '—'}</dd>
            <dt>Created</dt>
            <dd>{formatTime(secret.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{formatTime(secret.updated_at)}</dd>
            {'expiration_date' in secret && secret.expiration_date ? (
              <>
                <dt>Expires</dt>
                <dd>{formatTime(secret.expiration_date)}</dd>
              </>
            ) : null}
            {'rotation' in secret && secret.rotation ? (
              <>
                <dt>Rotation</dt>
                <dd>{secret.rotation.auto_rotate ? `every ${secret.rotation.interval} ${secret.rotation.unit}(s)` : 'manual'}</dd>
              </>
            ) : null}
            {secret.custom_metadata ? (
              <>
                <dt>Custom metadata</dt>
                <dd>
                  <code>{JSON.stringify(secret.custom_metadata)}</code>
                </dd>
              </>
            ) : null}
          </dl>
        </div>
        <Payload session={session} path={path} metadata={secret} />
      </div>
      <div class="panel">
        <div class="page-header">
          <h2>Versions</h2>
          <button type="button" onClick={() => setVersioning(true)}>
            Create version
          </button>
        </div>
        <ErrorBanner error={versions.error} />
        {versions.data ? (
          <div class="table-wrap">
            <table aria-label="Versions">
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Alias</th>
                  <th scope="col">Created</th>
                  <th scope="col">Data</th>
                  <th scope="col">Version metadata</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {versions.data.versions.map((version) => (
                  <tr key={version.id}>
                    <th scope="row" class="mono">
                      {version.id}
                    </th>
                    <td>{version.alias ?? ''}</td>
                    <td>{formatTime(version.created_at)}</td>
                    <td>{version.payload_available ? 'available' : 'deleted'}</td>
                    <td>{version.version_custom_metadata ? <code>{JSON.stringify(version.version_custom_metadata)}</code> : '—'}</td>
                    <td class="row-actions">
                      <button type="button" aria-label={`Edit metadata of version ${version.alias ?? version.id}`} onClick={() => setVersionEditing(version)}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
      <Locks session={session} path={path} locks={locks.data?.locks ?? []} error={locks.error} reload={reloadAll} />
      <EditMetadataDialog session={session} path={path} secret={secret} open={editing} onClose={() => setEditing(false)} onSaved={reloadAll} />
      <VersionMetadataDialog session={session} path={path} version={versionEditing} onClose={() => setVersionEditing(undefined)} onSaved={reloadAll} />
      <CreateVersionDialog session={session} path={path} type={secret.secret_type} open={versioning} onClose={() => setVersioning(false)} onCreated={reloadAll} />
      <ConfirmDialog
        title="Delete secret"
        open={deleting}
        confirmLabel="Delete secret"
        typedName={secret.name}
        message={<p>Delete {secret.name} with all its versions? A locked secret cannot be deleted. This cannot be undone.</p>}
        onConfirm={async () => {
          await session.request('DELETE', path);
          navigate({ page: 'secrets', instance });
        }}
        onClose={() => setDeleting(false)}
      />
    </>
  );
}

/**
 * The secret's value: hidden until "Reveal" (which reads it, and marks it downloaded), hidden again
 * after REVEAL_MS or on "Hide", kept only in this component's state. Copy reads it without showing it.
 */
function Payload({ session, path, metadata }: { readonly session: Session; readonly path: string; readonly metadata: Metadata }) {
  const [revealed, setRevealed] = useState<[string, string][]>();
  const action = useAction();
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const hide = () => {
    if (timer.current) clearTimeout(timer.current);
    setRevealed(undefined);
  };
  useEffect(() => hide, [path]);
  const read = async () => valueOf(await session.request<Record<string, unknown>>('GET', path), metadata.secret_type);
  return (
    <div class="panel">
      <h2>Value</h2>
      {revealed ? (
        <>
          {revealed.map(([name, value]) => (
            <div key={name}>
              <div class="hint">{name}</div>
              <pre class="secret-value" data-secret-field={name}>
                {value}
              </pre>
            </div>
          ))}
          <p class="hint">Hidden again in {REVEAL_MS / 1000} seconds.</p>
          <button type="button" onClick={hide}>
            Hide
          </button>
        </>
      ) : (
        <p class="hint">The value is hidden. Revealing it reads it from the server (the secret is marked as downloaded).</p>
      )}
      <ErrorBanner error={action.error} />
      <div class="actions">
        {revealed ? null : (
          <button
            type="button"
            class="primary"
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                setRevealed(await read());
                if (timer.current) clearTimeout(timer.current);
                timer.current = setTimeout(() => setRevealed(undefined), REVEAL_MS);
              })
            }
          >
            Reveal
          </button>
        )}
        <CopyValue read={read} />
      </div>
    </div>
  );
}

/** Copy the secret's main value (the first payload field) without showing it. */
function CopyValue({ read }: { readonly read: () => Promise<[string, string][]> }) {
  const [value, setValue] = useState<string>();
  const action = useAction();
  useEffect(() => {
    if (value === undefined) return;
    const timer = setTimeout(() => setValue(undefined), 10_000);
    return () => clearTimeout(timer);
  }, [value]);
  if (value !== undefined) return <CopyButton value={() => value} label="Copy value" />;
  return (
    <button type="button" disabled={action.busy} onClick={() => void action.run(async () => setValue((await read()).map(([, field]) => field).join('\n')))}>
      Load value to copy
    </button>
  );
}

function Locks({ session, path, locks, error, reload }: { readonly session: Session; readonly path: string; readonly locks: readonly SecretsWire.SecretLock[]; readonly error: unknown; readonly reload: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const action = useAction();
  return (
    <div class="panel">
      <h2>Locks</h2>
      <p class="hint">A lock keeps a version's data from being deleted or replaced while an application still uses it.</p>
      <ErrorBanner error={error ?? action.error} />
      {locks.length === 0 ? (
        <p>No locks.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="Locks">
            <thead>
              <tr>
                <th scope="col">Lock</th>
                <th scope="col">Description</th>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {locks.map((lock) => (
                <tr key={`${lock.secret_version_id}/${lock.name}`}>
                  <th scope="row">{lock.name}</th>
                  <td>{lock.description ?? ''}</td>
                  <td>{lock.secret_version_alias ?? lock.secret_version_id}</td>
                  <td>{formatTime(lock.created_at)}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      aria-label={`Remove lock ${lock.name}`}
                      disabled={action.busy}
                      onClick={() =>
                        void action.run(async () => {
                          await session.request('DELETE', `${path}/locks_bulk`, { query: { name: lock.name } });
                          reload();
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.request('POST', `${path}/locks_bulk`, { body: { locks: [{ name, ...(description ? { description } : {}) }] } });
            setName('');
            setDescription('');
            reload();
          });
        }}
      >
        <label class="field">
          <span>Lock name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Lock description</span>
          <input value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </label>
        <button type="submit" disabled={action.busy}>
          Add lock
        </button>
      </form>
    </div>
  );
}

function CreateVersionDialog({ session, path, type, open, onClose, onCreated }: { readonly session: Session; readonly path: string; readonly type: SecretType; readonly open: boolean; readonly onClose: () => void; readonly onCreated: () => void }) {
  const spec = SECRET_TYPES[type];
  const [values, setValues] = useState<Record<string, string | boolean>>(() => initialValues(spec.versionFields));
  const action = useAction();
  useEffect(() => {
    if (open) {
      setValues(initialValues(spec.versionFields));
      action.clear();
    }
  }, [open]);
  return (
    <Dialog title="Create version" open={open} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await session.request('POST', `${path}/versions`, { body: spec.versionBody(values) });
            setValues(initialValues(spec.versionFields));
            onCreated();
            onClose();
          });
        }}
      >
        <p class="hint">The new version becomes current; the one before it stays readable as previous.</p>
        <Fields fields={spec.versionFields} values={values} onChange={(field, value) => setValues({ ...values, [field]: value })} session={session} />
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy}>
            Create version
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function VersionMetadataDialog({ session, path, version, onClose, onSaved }: { readonly session: Session; readonly path: string; readonly version: SecretsWire.SecretVersionMetadata | undefined; readonly onClose: () => void; readonly onSaved: () => void }) {
  const [custom, setCustom] = useState('');
  const action = useAction();
  useEffect(() => {
    setCustom(version?.version_custom_metadata ? JSON.stringify(version.version_custom_metadata, null, 2) : '');
    action.clear();
  }, [version]);
  return (
    <Dialog title="Edit version metadata" open={version !== undefined} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            if (!version) return;
            const body = { version_custom_metadata: custom.trim() ? jsonObjectOf(custom, 'Version metadata') : null };
            await session.request('PATCH', `${path}/versions/${version.id}/metadata`, { body, headers: { 'content-type': 'application/merge-patch+json' } });
            onSaved();
            onClose();
          });
        }}
      >
        <p class="hint">Version {version?.alias ?? version?.id}: metadata of this version only (the secret's own metadata is edited with Edit metadata).</p>
        <label class="field">
          <span>Version metadata (JSON object)</span>
          <textarea value={custom} onInput={(event) => setCustom(event.currentTarget.value)} spellcheck={false} />
        </label>
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Date and time as a datetime-local input shows it (local time, minutes). */
const localOf = (iso: string | undefined) => {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function EditMetadataDialog({ session, path, secret, open, onClose, onSaved }: { readonly session: Session; readonly path: string; readonly secret: Metadata; readonly open: boolean; readonly onClose: () => void; readonly onSaved: () => void }) {
  const [name, setName] = useState(secret.name);
  const [description, setDescription] = useState(secret.description ?? '');
  const [labels, setLabels] = useState(secret.labels.join(', '));
  const [custom, setCustom] = useState(secret.custom_metadata ? JSON.stringify(secret.custom_metadata, null, 2) : '');
  const rotation = 'rotation' in secret ? secret.rotation : undefined;
  const [autoRotate, setAutoRotate] = useState(rotation?.auto_rotate ?? false);
  const [interval, setRotationInterval] = useState(String(rotation?.interval ?? 30));
  const [unit, setUnit] = useState<SecretsWire.RotationUnit>(rotation?.unit ?? 'day');
  const expires = secret.secret_type === 'arbitrary' || secret.secret_type === 'username_password';
  const [expiration, setExpiration] = useState(localOf('expiration_date' in secret ? secret.expiration_date : undefined));
  const action = useAction();
  useEffect(() => {
    if (!open) return;
    setName(secret.name);
    setDescription(secret.description ?? '');
    setLabels(secret.labels.join(', '));
    setCustom(secret.custom_metadata ? JSON.stringify(secret.custom_metadata, null, 2) : '');
    setExpiration(localOf('expiration_date' in secret ? secret.expiration_date : undefined));
    action.clear();
  }, [open]);
  return (
    <Dialog title="Edit metadata" open={open} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const patch: Record<string, unknown> = {
              name,
              description: description.trim() ? description : null,
              labels: labels.split(',').map((label) => label.trim()).filter(Boolean),
              custom_metadata: custom.trim() ? jsonObjectOf(custom, 'Custom metadata') : null,
            };
            if (expires) patch['expiration_date'] = expiration ? new Date(expiration).toISOString() : null;
            if (ROTATABLE.has(secret.secret_type)) patch['rotation'] = autoRotate ? { auto_rotate: true, interval: Number(interval), unit } : { auto_rotate: false };
            await session.request('PATCH', `${path}/metadata`, { body: patch, headers: { 'content-type': 'application/merge-patch+json' } });
            onSaved();
            onClose();
          });
        }}
      >
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Description</span>
          <input value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Labels (comma-separated)</span>
          <input value={labels} onInput={(event) => setLabels(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Custom metadata (JSON object)</span>
          <textarea value={custom} onInput={(event) => setCustom(event.currentTarget.value)} spellcheck={false} />
        </label>
        {expires ? (
          <label class="field">
            <span>Expiration date (empty: never)</span>
            <input type="datetime-local" value={expiration} onInput={(event) => setExpiration(event.currentTarget.value)} />
          </label>
        ) : null}
        {ROTATABLE.has(secret.secret_type) ? (
          <fieldset class="field">
            <legend>Rotation policy</legend>
            <label class="choice">
              <input type="checkbox" checked={autoRotate} onChange={(event) => setAutoRotate(event.currentTarget.checked)} /> Rotate automatically
            </label>
            {autoRotate ? (
              <div class="grid-2">
                <label class="field">
                  <span>Every</span>
                  <input type="number" min={1} value={interval} onInput={(event) => setRotationInterval(event.currentTarget.value)} />
                </label>
                <label class="field">
                  <span>Unit</span>
                  <select value={unit} onChange={(event) => setUnit(event.currentTarget.value as SecretsWire.RotationUnit)}>
                    <option value="day">days</option>
                    <option value="month">months</option>
                  </select>
                </label>
              </div>
            ) : null}
          </fieldset>
        ) : null}
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
