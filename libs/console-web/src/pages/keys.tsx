/** Keys of one Key Protect / HPCS instance: list, create or import, rotate, disable/enable, delete (dual authorization), restore, registrations. */
import type { KmsWire, LifecycleWire } from '@sealbox/contracts';
import { useState } from 'preact/hooks';
import type { Session } from '../api.js';
import { importWithToken } from '../import-token.js';
import { hrefOf } from '../router.js';
import { ConfirmDialog, Dialog, EmptyState, ErrorBanner, formatTime, Spinner, useAction, useLoad } from '../ui.js';

type Key = KmsWire.Key;

/** Key Protect's state numbers. */
export const KEY_STATES: Readonly<Record<number, string>> = { 0: 'pre-active', 1: 'active', 2: 'suspended', 3: 'deactivated', 5: 'destroyed' };

const KMS = '/kms/api/v2';

export function KeysPage({ session, instance }: { readonly session: Session; readonly instance: string }) {
  const headers = { 'bluemix-instance': instance };
  const details = useLoad((signal) => session.request<LifecycleWire.ResourceInstance>('GET', `/v2/resource_instances/${instance}`, { signal }), [instance]);
  const keys = useLoad((signal) => session.request<KmsWire.KeyCollection>('GET', `${KMS}/keys`, { signal, headers, query: { state: '0,1,2,3,5', limit: 200 } }), [instance]);
  const registrations = useLoad((signal) => session.request<KmsWire.RegistrationCollection>('GET', `${KMS}/keys/registrations`, { signal, headers }), [instance]);
  const hpcs = details.data?.resource_id === 'hs-crypto';
  const master = useLoad(
    (signal) => (hpcs ? session.request<KmsWire.MasterKeyStatus>('GET', `${KMS}/instance/master_key`, { signal, headers }) : Promise.resolve(undefined)),
    [instance, hpcs],
  );
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Key>();
  const action = useAction();
  const reload = () => {
    keys.reload();
    registrations.reload();
  };
  const act = (key: Key, name: string) =>
    void action.run(async () => {
      await session.request('POST', `${KMS}/keys/${key.id}/actions/${name}`, { headers, body: {} });
      reload();
    });
  const registrationsOf = (key: Key) => (registrations.data?.resources ?? []).filter((registration) => registration.keyId === key.id);
  const name = details.data?.name ?? instance;

  return (
    <section aria-labelledby="keys-title">
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <a href={hrefOf({ page: 'instances' })}>Instances</a> › {name}
      </nav>
      <div class="page-header">
        <h1 id="keys-title">{name}: keys</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create key
        </button>
      </div>
      {hpcs && master.data ? (
        <p class={master.data.status === 'active' ? 'notice' : 'warning'} role="status">
          Master key: <strong>{master.data.status}</strong>
          {master.data.status === 'pending' || master.data.status === 'uninitialized'
            ? ` (${master.data.partsLoaded ?? 0} of ${master.data.threshold ?? '?'} parts loaded: the instance's keys cannot be used until the key ceremony is complete)`
            : ''}
          {master.data.verificationPattern ? `, verification pattern ${master.data.verificationPattern}` : ''}
        </p>
      ) : null}
      <ErrorBanner error={keys.error ?? action.error ?? master.error} />
      {keys.data === undefined ? (
        keys.loading ? <Spinner label="Loading keys" /> : null
      ) : keys.data.resources.length === 0 ? (
        <EmptyState title="No keys yet">
          Press <strong>Create key</strong> for a root key: Secrets Manager instances can then use it to protect their data.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                <th scope="col">Protects</th>
                <th scope="col">Created</th>
                <th scope="col">Last rotated</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.resources.map((key) => {
                const protects = registrationsOf(key);
                const state = KEY_STATES[key.state] ?? String(key.state);
                return (
                  <tr key={key.id} data-key={key.name}>
                    <th scope="row">
                      {key.name}
                      <div class="hint mono">{key.id}</div>
                    </th>
                    <td>{key.extractable ? 'standard' : 'root'}{key.imported ? ' (imported)' : ''}</td>
                    <td>
                      <span class={`state state-${state}`}>{state}</span>
                      {key.dualAuthDelete.enabled ? (
                        <div class="hint">Dual authorization: {key.dualAuthDelete.keySetForDeletion ? `set for deletion until ${formatTime(key.dualAuthDelete.authExpiration)}` : 'not set for deletion'}</div>
                      ) : null}
                      {key.deleted && key.restoreExpirationDate ? <div class="hint">Restorable until {formatTime(key.restoreExpirationDate)}</div> : null}
                    </td>
                    <td>
                      {protects.length === 0
                        ? '—'
                        : protects.map((registration) => (
                            <div key={registration.resourceCrn} class="mono hint">
                              {registration.resourceCrn}
                            </div>
                          ))}
                    </td>
                    <td>{formatTime(key.creationDate)}</td>
                    <td>{formatTime(key.lastRotateDate)}</td>
                    <td class="row-actions">
                      {key.state === 5 ? (
                        <button type="button" aria-label={`Restore ${key.name}`} disabled={action.busy} onClick={() => void action.run(async () => {
                          await session.request('POST', `${KMS}/keys/${key.id}/restore`, { headers, body: {} });
                          reload();
                        })}>
                          Restore
                        </button>
                      ) : (
                        <>
                          {!key.extractable && key.state === 1 ? (
                            <button type="button" aria-label={`Rotate ${key.name}`} disabled={action.busy} onClick={() => act(key, 'rotate')}>
                              Rotate
                            </button>
                          ) : null}
                          {key.state === 1 ? (
                            <button type="button" aria-label={`Disable ${key.name}`} disabled={action.busy} onClick={() => act(key, 'disable')}>
                              Disable
                            </button>
                          ) : key.state === 2 ? (
                            <button type="button" aria-label={`Enable ${key.name}`} disabled={action.busy} onClick={() => act(key, 'enable')}>
                              Enable
                            </button>
                          ) : null}
                          {key.dualAuthDelete.enabled && !key.dualAuthDelete.keySetForDeletion ? (
                            <button type="button" aria-label={`Set for deletion ${key.name}`} disabled={action.busy} onClick={() => act(key, 'setKeyForDeletion')}>
                              Set for deletion
                            </button>
                          ) : null}
                          <button type="button" class="danger" aria-label={`Delete ${key.name}`} onClick={() => setDeleting(key)}>
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <CreateKeyDialog session={session} instance={instance} open={creating} onClose={() => setCreating(false)} onCreated={reload} />
      <ConfirmDialog
        title="Delete key"
        open={deleting !== undefined}
        confirmLabel="Delete key"
        typedName={deleting?.name ?? ''}
        message={
          <p>
            Delete {deleting?.name}? Data it protects can no longer be read. A key that protects an instance (a registration) cannot be deleted; a deleted key
            can be restored for 30 days.
          </p>
        }
        onConfirm={async () => {
          if (deleting) await session.request('DELETE', `${KMS}/keys/${deleting.id}`, { headers });
          reload();
        }}
        onClose={() => setDeleting(undefined)}
      />
    </section>
  );
}

function CreateKeyDialog({ session, instance, open, onClose, onCreated }: { readonly session: Session; readonly instance: string; readonly open: boolean; readonly onClose: () => void; readonly onCreated: () => void }) {
  const [name, setName] = useState('');
  const [standard, setStandard] = useState(false);
  const [material, setMaterial] = useState('');
  const [secureImport, setSecureImport] = useState(true);
  const action = useAction();
  return (
    <Dialog title="Create key" open={open} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const given = material.trim();
            const imported = !given ? {} : !standard && secureImport ? await importWithToken(session, instance, given) : { payload: given };
            await session.request('POST', `${KMS}/keys`, {
              headers: { 'bluemix-instance': instance, 'content-type': 'application/vnd.ibm.kms.key+json' },
              body: {
                metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
                resources: [{ type: 'application/vnd.ibm.kms.key+json', name, extractable: standard, ...imported }],
              },
            });
            setName('');
            setMaterial('');
            onCreated();
            onClose();
          });
        }}
      >
        <label class="field">
          <span>Key name</span>
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} minLength={2} maxLength={90} />
        </label>
        <fieldset class="field">
          <legend>Key type</legend>
          <label class="choice">
            <input type="radio" name="key-type" checked={!standard} onChange={() => setStandard(false)} /> Root key (wraps data keys, never leaves the service)
          </label>
          <label class="choice">
            <input type="radio" name="key-type" checked={standard} onChange={() => setStandard(true)} /> Standard key
          </label>
        </fieldset>
        <label class="field">
          <span>Key material to import (base64, optional)</span>
          <input type="password" autoComplete="off" value={material} onInput={(event) => setMaterial(event.currentTarget.value)} />
          <small class="hint">Leave empty to have the service generate the key. A root key takes 32 bytes.</small>
        </label>
        {!standard && material.trim() ? (
          <label class="choice field">
            <input type="checkbox" checked={secureImport} onChange={(event) => setSecureImport(event.currentTarget.checked)} /> Use an import token (the material is
            encrypted in this browser before it is sent)
          </label>
        ) : null}
        <ErrorBanner error={action.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={action.busy}>
            Create key
          </button>
        </div>
      </form>
    </Dialog>
  );
}
