/**
 * The private_cert engine: certificate authorities (root, intermediate signed here or outside),
 * certificate templates, issuing and revoking certificates, and each CA's CRL. Every CA private key
 * is sealed by CaKeyVault (envelope encryption under the instance's root key) and opened only for
 * the one signature it makes.
 */
import { Inject, Injectable } from '@nestjs/common';
import { SecretsWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, notFound, outboxToken, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { pageLinks } from '../../../domain/listing.js';
import type { InstanceEntity } from '../../../registry/entities.js';
import { InstanceRegistry } from '../../../registry/instance-registry.js';
import type { GroupCaller } from '../../../registry/rules.js';
import type { TenantScope } from '../../../registry/store.js';
import { fieldError, parseOrFail } from '../../validation.js';
import { CaKeyVault } from './ca-keys.js';
import type { PrivateCertConfigurationEntity, RevokedCertificate } from './entities.js';
import { allowedAltNames, certificateTtlSeconds, checkSecretGroup, commaList, seconds, usagesOf, type TemplateSettings } from './policy.js';
import { ConfigurationStore } from './store.js';
import {
  createCaCertificate,
  createCrl,
  crlPem,
  createCsr,
  createLeafCertificate,
  DEFAULT_KEY,
  displaySerial,
  generateKeyPair,
  importPrivateKey,
  keyAlgorithmName,
  keySpecOf,
  parseCertificate,
  parseCsr,
  privateKeyPem,
  signingAlgorithmName,
  subjectName,
  x509,
  type CryptoKey,
  type KeySpec,
} from './x509.js';

type ConfigurationType = SecretsWire.ConfigurationType;
type RootCa = Extract<SecretsWire.ConfigurationPrototype, { config_type: 'private_cert_configuration_root_ca' }>;
type IntermediateCa = Extract<SecretsWire.ConfigurationPrototype, { config_type: 'private_cert_configuration_intermediate_ca' }>;
type CaSettings = Omit<RootCa, 'config_type' | 'name'> & Partial<Pick<IntermediateCa, 'signing_method' | 'issuer'>>;

const ROOT = 'private_cert_configuration_root_ca';
const INTERMEDIATE = 'private_cert_configuration_intermediate_ca';
const TEMPLATE = 'private_cert_configuration_template';
/** A CRL is valid this long unless the CA says otherwise (IBM: 72h). */
const DEFAULT_CRL_EXPIRY_SECONDS = 72 * 3600;
/** Certificates start a little in the past, so a verifier whose clock lags still accepts them. */
const BACKDATE_MS = 30_000;

const iso = (ms: number) => new Date(ms).toISOString();
const isCa = (row: PrivateCertConfigurationEntity) => row.configType === ROOT || row.configType === INTERMEDIATE;

/** What a certificate request asks of a template (a private_cert prototype, or the details kept for re-issuing). */
export interface IssueRequest {
  readonly certificate_template: string;
  readonly common_name: string;
  readonly alt_names?: readonly string[] | undefined;
  readonly ip_sans?: string | undefined;
  readonly uri_sans?: string | undefined;
  readonly exclude_cn_from_sans?: boolean | undefined;
  readonly ttl?: string | undefined;
  readonly csr?: string | undefined;
}

/** The details a private certificate's metadata shows (secret and version). */
export interface PrivateCertDetails {
  readonly certificate_template: string;
  readonly certificate_authority: string;
  readonly common_name: string;
  readonly alt_names: string[];
  readonly ip_sans?: string;
  readonly uri_sans?: string;
  readonly issuer: string;
  readonly serial_number: string;
  readonly key_algorithm: string;
  readonly signing_algorithm: string;
  readonly validity: { readonly not_before: string; readonly not_after: string };
  readonly expiration_date: string;
  readonly ttl?: string;
}

export interface IssuedCertificate {
  readonly certificate: string;
  /** Absent when issued for the caller's CSR. */
  readonly private_key?: string;
  readonly issuing_ca: string;
  readonly ca_chain: string[];
  readonly details: PrivateCertDetails;
  readonly notAfter: number;
}

/** A CA, its key opened for one use. */
interface OpenedCa {
  readonly certificate: x509.X509Certificate;
  readonly key: CryptoKey;
  readonly spec: KeySpec;
}

function specOf(settings: { key_type?: 'rsa' | 'ec' | undefined; key_bits?: number | undefined }): KeySpec {
  const keyType = settings.key_type ?? DEFAULT_KEY.keyType;
  return { keyType, keyBits: settings.key_bits ?? (keyType === 'rsa' ? 2048 : 256) };
}

/** The common name of a distinguished name, or the whole name. */
function commonNameOf(name: string): string {
  return /(?:^|,\s*)CN=([^,]+)/.exec(name)?.[1] ?? name;
}

export function certificateDetails(certificate: x509.X509Certificate, spec: KeySpec, signer: KeySpec, extra: Pick<PrivateCertDetails, 'certificate_template' | 'certificate_authority' | 'common_name' | 'alt_names' | 'ip_sans' | 'uri_sans' | 'ttl'>): PrivateCertDetails {
  const notBefore = certificate.notBefore.toISOString();
  const notAfter = certificate.notAfter.toISOString();
  return {
    ...extra,
    issuer: commonNameOf(certificate.issuer),
    serial_number: displaySerial(certificate.serialNumber),
    key_algorithm: keyAlgorithmName(spec),
    signing_algorithm: signingAlgorithmName(signer),
    validity: { not_before: notBefore, not_after: notAfter },
    expiration_date: notAfter,
  };
}

/** A configuration as IBM returns it. */
export function toWireConfiguration(row: PrivateCertConfigurationEntity, withData = true): SecretsWire.Configuration {
  const common = {
    config_type: row.configType as ConfigurationType,
    name: row.name,
    secret_type: 'private_cert' as const,
    created_by: row.createdBy,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    ...row.settings,
  };
  if (!isCa(row)) return common;
  const certificate = row.certificate ? parseCertificate(row.certificate) : undefined;
  return {
    ...common,
    ...(row.status ? { status: row.status as SecretsWire.Configuration['status'] & string } : {}),
    ...(row.expirationAt !== null ? { expiration_date: iso(row.expirationAt) } : {}),
    ...(certificate ? { serial_number: displaySerial(certificate.serialNumber) } : {}),
    ...(withData
      ? {
          data: {
            ...(row.certificate ? { certificate: row.certificate, issuing_ca: row.caChain[0] ?? row.certificate, ca_chain: row.caChain.length > 0 ? row.caChain : [row.certificate] } : {}),
            ...(row.csr ? { csr: row.csr } : {}),
            ...(row.expirationAt !== null ? { expiration: Math.floor(row.expirationAt / 1000) } : {}),
          },
        }
      : {}),
  };
}

@Injectable()
export class PrivateCertEngine {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly instances: InstanceRegistry,
    private readonly keys: CaKeyVault,
  ) {}

  private scopeOf(caller: GroupCaller, instanceGuid: string): TenantScope {
    return { accountId: caller.accountId, instanceGuid };
  }

  private instance(scope: TenantScope, manager: EntityManager = this.dataSource.manager): Promise<InstanceEntity> {
    return this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
  }

  /** A configuration of the scope (of `configType` when the caller named one), or NOT_FOUND. */
  private async configuration(scope: TenantScope, name: string, configType?: ConfigurationType, manager: EntityManager = this.dataSource.manager): Promise<PrivateCertConfigurationEntity> {
    const row = await new ConfigurationStore(manager).get(scope, name);
    if (!row || (configType !== undefined && row.configType !== configType)) throw notFound(`Configuration ${name}`);
    return row;
  }

  private event(manager: EntityManager, type: 'secrets.configuration.created' | 'secrets.configuration.updated' | 'secrets.configuration.deleted', row: PrivateCertConfigurationEntity) {
    return this.outbox.record(manager, type, { accountId: row.accountId, instanceId: row.instanceGuid, name: row.name, configType: row.configType });
  }

  // ---------- configurations ----------

  async create(caller: GroupCaller, request: SecretsWire.CreateConfigurationRequest): Promise<SecretsWire.Configuration> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const instance = await this.instance(scope);
    const prototype = request.configuration;
    const store = new ConfigurationStore(this.dataSource.manager);
    if (await store.get(scope, prototype.name)) throw conflict(`A configuration named "${prototype.name}" already exists in this instance`);
    const now = this.clock.nowMs();
    const { config_type: configType, name, ...settings } = prototype;
    const row: PrivateCertConfigurationEntity = {
      ...scope,
      name,
      id: randomUUID(),
      configType,
      settings: settings as Record<string, unknown>,
      status: null,
      issuer: null,
      certificate: null,
      caChain: [],
      csr: null,
      keyId: null,
      sealedKey: null,
      revoked: [],
      crl: null,
      crlNumber: 0,
      crlNextUpdate: null,
      expirationAt: null,
      createdAt: now,
      createdBy: caller.iamId,
      updatedAt: now,
    };
    if (prototype.config_type === TEMPLATE) {
      const ca = await store.get(scope, prototype.certificate_authority);
      if (!ca || !isCa(ca)) throw fieldError('certificate_authority', `certificate authority ${prototype.certificate_authority} does not exist in this instance`);
      row.issuer = ca.name;
    } else if (prototype.config_type === ROOT) {
      Object.assign(row, await this.newRootCa(instance, row.id, prototype, now));
    } else {
      Object.assign(row, await this.newIntermediateCa(instance, scope, row.id, prototype, now));
      if (row.status === 'configured') Object.assign(row, await this.firstCrl(instance, row, now));
    }
    await this.dataSource.transaction(async (manager) => {
      const fresh = new ConfigurationStore(manager);
      if (await fresh.get(scope, name)) throw conflict(`A configuration named "${name}" already exists in this instance`);
      await fresh.insert(row);
      await this.event(manager, 'secrets.configuration.created', row);
    });
    return toWireConfiguration(row);
  }

  private caTtlMs(settings: CaSettings): number {
    return (seconds(settings.ttl) ?? seconds(settings.max_ttl) ?? 0) * 1000;
  }

  private async newRootCa(instance: InstanceEntity, id: string, settings: RootCa, now: number): Promise<Partial<PrivateCertConfigurationEntity>> {
    const spec = specOf(settings);
    const keys = await generateKeyPair(spec);
    const certificate = await createCaCertificate({
      subject: subjectName(settings),
      altNames: { dns: [...(settings.alt_names ?? [])], ip: commaList(settings.ip_sans), uri: commaList(settings.uri_sans) },
      publicKey: keys.publicKey,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + this.caTtlMs(settings)),
      maxPathLength: settings.max_path_length,
      selfKey: { key: keys.privateKey, spec },
    });
    const opened: OpenedCa = { certificate, key: keys.privateKey, spec };
    const keyId = randomUUID();
    const crl = await this.signCrl(opened, [], 1, now, settings);
    return {
      status: 'configured',
      certificate: certificate.toString('pem'),
      caChain: [],
      keyId,
      sealedKey: await this.keys.seal(instance, id, keyId, await privateKeyPem(keys.privateKey)),
      crl: crl.pem,
      crlNumber: 1,
      crlNextUpdate: crl.nextUpdate,
      expirationAt: certificate.notAfter.getTime(),
    };
  }

  private async newIntermediateCa(instance: InstanceEntity, scope: TenantScope, id: string, settings: IntermediateCa, now: number): Promise<Partial<PrivateCertConfigurationEntity>> {
    const spec = specOf(settings);
    const keys = await generateKeyPair(spec);
    const keyId = randomUUID();
    const sealedKey = await this.keys.seal(instance, id, keyId, await privateKeyPem(keys.privateKey));
    const csr = await createCsr(subjectName(settings), keys, spec);
    const pending = { keyId, sealedKey, csr: csr.toString('pem'), status: 'signing_required' };
    if (settings.signing_method === 'external') return pending;
    const issuerName = settings.issuer ?? '';
    const issuer = await new ConfigurationStore(this.dataSource.manager).get(scope, issuerName);
    if (!issuer || !isCa(issuer)) throw fieldError('issuer', `certificate authority ${issuerName} does not exist in this instance`);
    const signed = await this.signIntermediate(instance, issuer, { settings: settings as unknown as CaSettings, publicKey: csr.publicKey }, now);
    return { ...pending, ...signed, csr: null, issuer: issuer.name };
  }

  /** A CA certificate for a subordinate CA's public key, signed by `issuer`. */
  private async signIntermediate(
    instance: InstanceEntity,
    issuer: PrivateCertConfigurationEntity,
    subordinate: { settings: CaSettings & { common_name: string }; publicKey: x509.PublicKey },
    now: number,
  ): Promise<Partial<PrivateCertConfigurationEntity>> {
    const issuerSettings = issuer.settings as unknown as CaSettings;
    const requested = this.caTtlMs(subordinate.settings);
    const max = (seconds(issuerSettings.max_ttl) ?? 0) * 1000;
    if (requested > max) throw fieldError('ttl', `must be at most the issuing CA's max_ttl (${issuerSettings.max_ttl})`);
    const certificate = await this.withCa(instance, issuer, now, (ca) =>
      createCaCertificate({
        subject: subjectName(subordinate.settings),
        altNames: { dns: [...(subordinate.settings.alt_names ?? [])], ip: commaList(subordinate.settings.ip_sans), uri: commaList(subordinate.settings.uri_sans) },
        publicKey: subordinate.publicKey,
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(Math.min(now + requested, ca.certificate.notAfter.getTime())),
        maxPathLength: subordinate.settings.max_path_length,
        issuer: ca,
      }),
    );
    return {
      status: 'configured',
      certificate: certificate.toString('pem'),
      caChain: [issuer.certificate ?? '', ...issuer.caChain],
      expirationAt: certificate.notAfter.getTime(),
      crlNumber: 0,
    };
  }

  /** Open a configured CA's key for one use. */
  private async withCa<T>(instance: InstanceEntity, row: PrivateCertConfigurationEntity, now: number, use: (ca: OpenedCa) => Promise<T>): Promise<T> {
    if (!isCa(row) || row.status !== 'configured' || !row.certificate || !row.keyId || !row.sealedKey) {
      throw conflict(`Certificate authority ${row.name} cannot sign: its status is ${row.status ?? 'none'}`);
    }
    if (row.expirationAt !== null && row.expirationAt <= now) throw conflict(`Certificate authority ${row.name} expired`);
    const certificate = parseCertificate(row.certificate);
    const spec = specOf(row.settings as CaSettings);
    return this.keys.use(instance, row.id, row.keyId, row.sealedKey, async (pem) => use({ certificate, key: await importPrivateKey(pem, spec), spec }));
  }

  private async signCrl(ca: OpenedCa, revoked: readonly RevokedCertificate[], crlNumber: number, now: number, settings: CaSettings): Promise<{ pem: string; nextUpdate: number }> {
    const nextUpdate = now + (seconds(settings.crl_expiry) ?? DEFAULT_CRL_EXPIRY_SECONDS) * 1000;
    const crl = await createCrl({
      issuer: ca,
      entries: revoked.map((entry) => ({ serialNumber: entry.serial, revokedAt: entry.revokedAt })),
      thisUpdate: new Date(now - BACKDATE_MS),
      nextUpdate: new Date(nextUpdate),
      crlNumber,
    });
    return { pem: crlPem(crl), nextUpdate };
  }

  async list(caller: GroupCaller, request: SecretsWire.ListConfigurationsRequest): Promise<SecretsWire.ConfigurationPaginatedCollection> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    await this.instance(scope);
    const { query } = request;
    let rows = await new ConfigurationStore(this.dataSource.manager).all(scope);
    if (query.secret_types && !query.secret_types.includes('private_cert')) rows = [];
    if (query.search) {
      const needle = query.search.toLowerCase();
      rows = rows.filter((row) => row.name.toLowerCase().includes(needle) || row.configType.includes(needle));
    }
    if (query.sort) {
      const descending = query.sort.startsWith('-');
      const field = (descending ? query.sort.slice(1) : query.sort) as 'config_type' | 'name' | 'created_at' | 'updated_at';
      const value = (row: PrivateCertConfigurationEntity) => ({ config_type: row.configType, name: row.name, created_at: row.createdAt, updated_at: row.updatedAt })[field];
      rows.sort((a, b) => {
        const [left, right] = [value(a), value(b)];
        const order = left < right ? -1 : left > right ? 1 : a.name < b.name ? -1 : 1;
        return descending ? -order : order;
      });
    }
    const page = rows.slice(query.offset, query.offset + query.limit);
    return {
      ...pageLinks({ path: request.path, query: { sort: query.sort, search: query.search, secret_types: query.secret_types }, offset: query.offset, limit: query.limit, totalCount: rows.length }),
      configurations: page.map((row) => toWireConfiguration(row, false)),
    };
  }

  async get(caller: GroupCaller, request: SecretsWire.ConfigurationRef): Promise<SecretsWire.Configuration> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    await this.instance(scope);
    return toWireConfiguration(await this.configuration(scope, request.name, request.configType));
  }

  async update(caller: GroupCaller, request: SecretsWire.UpdateConfigurationRequest): Promise<SecretsWire.Configuration> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    await this.instance(scope);
    const before = await this.configuration(scope, request.name, request.configType);
    const patch = parseOrFail(SecretsWire.ConfigurationPatches[before.configType as ConfigurationType], request.patch) as Record<string, unknown>;
    return this.dataSource.transaction(async (manager) => {
      const row = await this.configuration(scope, request.name, request.configType, manager);
      const settings = { ...row.settings };
      for (const [field, value] of Object.entries(patch)) {
        if (value === null) delete settings[field];
        else if (value !== undefined) settings[field] = value;
      }
      if (row.configType === TEMPLATE) {
        const merged = parseOrFail(SecretsWire.TemplatePrototype, { config_type: TEMPLATE, name: row.name, ...settings });
        const ca = await new ConfigurationStore(manager).get(scope, merged.certificate_authority);
        if (!ca || !isCa(ca)) throw fieldError('certificate_authority', `certificate authority ${merged.certificate_authority} does not exist in this instance`);
      }
      const changes = { settings, updatedAt: this.clock.nowMs(), ...(row.configType === TEMPLATE ? { issuer: settings['certificate_authority'] as string } : {}) };
      await new ConfigurationStore(manager).update(scope, row.name, changes);
      const updated = { ...row, ...changes };
      await this.event(manager, 'secrets.configuration.updated', updated);
      return toWireConfiguration(updated);
    });
  }

  /** Delete a configuration nothing else uses (a CA with templates or subordinate CAs: 409). */
  async delete(caller: GroupCaller, request: SecretsWire.ConfigurationRef): Promise<SecretsWire.Empty> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    await this.instance(scope);
    await this.dataSource.transaction(async (manager) => {
      const row = await this.configuration(scope, request.name, request.configType, manager);
      const store = new ConfigurationStore(manager);
      const users = (await store.all(scope)).filter((other) => other.name !== row.name && other.issuer === row.name).map((other) => other.name);
      if (users.length > 0) throw conflict(`Configuration ${row.name} is used by ${users.join(', ')}: delete them first`);
      await store.remove(scope, row.name);
      await this.event(manager, 'secrets.configuration.deleted', row);
    });
    return {};
  }

  // ---------- actions ----------

  async action(caller: GroupCaller, request: SecretsWire.ConfigurationActionRequest): Promise<SecretsWire.ConfigurationAction> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const instance = await this.instance(scope);
    const row = await this.configuration(scope, request.name, request.configType);
    const action = request.action;
    const now = this.clock.nowMs();
    const requireCa = (what: string) => {
      if (!isCa(row)) throw fieldError('action_type', `${what} applies to a certificate authority, not to ${row.configType}`);
    };
    switch (action.action_type) {
      case 'private_cert_configuration_action_rotate_crl': {
        requireCa('rotate_crl');
        await this.refreshCrl(instance, scope, row.name, now);
        return { action_type: action.action_type };
      }
      case 'private_cert_configuration_action_sign_intermediate': {
        requireCa('sign_intermediate');
        const subordinate = await this.configuration(scope, action.intermediate_certificate_authority);
        if (subordinate.configType !== INTERMEDIATE) throw fieldError('intermediate_certificate_authority', `${subordinate.name} is not an intermediate certificate authority`);
        if (subordinate.status !== 'signing_required' || !subordinate.csr) throw conflict(`Intermediate certificate authority ${subordinate.name} is not waiting to be signed`);
        const csr = new x509.Pkcs10CertificateRequest(subordinate.csr);
        const signed = await this.signIntermediate(instance, row, { settings: subordinate.settings as unknown as CaSettings & { common_name: string }, publicKey: csr.publicKey }, now);
        const withCrl = await this.firstCrl(instance, { ...subordinate, ...signed }, now);
        await this.save(scope, subordinate, { ...signed, ...withCrl, csr: null, issuer: row.name, updatedAt: now });
        return { action_type: action.action_type, data: toWireConfiguration({ ...subordinate, ...signed }).data };
      }
      case 'private_cert_configuration_action_sign_csr': {
        requireCa('sign_csr');
        const parsed = await parseCsr(action.csr);
        if (!parsed) throw fieldError('csr', 'is not a valid certificate signing request (malformed, or its signature does not verify)');
        const settings = { common_name: action.common_name ?? commonNameOf(parsed.request.subject), alt_names: action.alt_names, ip_sans: action.ip_sans, uri_sans: action.uri_sans, ttl: action.ttl, max_ttl: action.ttl ?? (row.settings as CaSettings).max_ttl, max_path_length: action.max_path_length };
        const signed = await this.signIntermediate(instance, row, { settings: settings as unknown as CaSettings & { common_name: string }, publicKey: parsed.request.publicKey }, now);
        const certificate = signed.certificate ?? '';
        return {
          action_type: action.action_type,
          data: { certificate, issuing_ca: row.certificate ?? '', ca_chain: signed.caChain ?? [], expiration: Math.floor((signed.expirationAt ?? 0) / 1000) },
        };
      }
      case 'private_cert_configuration_action_set_signed': {
        if (row.configType !== INTERMEDIATE) throw fieldError('action_type', 'set_signed applies to an intermediate certificate authority');
        if (row.status !== 'signing_required' || !row.csr) throw conflict(`Intermediate certificate authority ${row.name} is not waiting for a signed certificate`);
        const blocks = action.certificate.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        let certificate: x509.X509Certificate;
        try {
          certificate = parseCertificate(blocks[0] ?? '');
        } catch {
          throw fieldError('certificate', 'is not a PEM certificate');
        }
        const csr = new x509.Pkcs10CertificateRequest(row.csr);
        const [mine, theirs] = [Buffer.from(csr.publicKey.rawData), Buffer.from(certificate.publicKey.rawData)];
        if (!mine.equals(theirs)) throw fieldError('certificate', "is not for this certificate authority's key");
        const signed = { status: 'configured', certificate: certificate.toString('pem'), caChain: blocks.slice(1), csr: null, expirationAt: certificate.notAfter.getTime(), updatedAt: now };
        const withCrl = await this.firstCrl(instance, { ...row, ...signed }, now);
        await this.save(scope, row, { ...signed, ...withCrl });
        return { action_type: action.action_type, data: toWireConfiguration({ ...row, ...signed }).data };
      }
      case 'private_cert_configuration_action_revoke_ca_certificate': {
        if (row.configType !== INTERMEDIATE || !row.issuer || !row.certificate) throw fieldError('action_type', 'revoke_ca_certificate applies to an intermediate certificate authority signed in this instance');
        const serial = parseCertificate(row.certificate).serialNumber;
        const revokedAt = await this.revoke(instance, row.issuer, serial, now);
        await this.save(scope, row, { status: 'revoked', updatedAt: now });
        return { action_type: action.action_type, revocation_time_seconds: Math.floor(revokedAt / 1000) };
      }
    }
  }

  /** The first CRL of a CA that just got its certificate. */
  private async firstCrl(instance: InstanceEntity, row: PrivateCertConfigurationEntity, now: number): Promise<Partial<PrivateCertConfigurationEntity>> {
    const crl = await this.withCa(instance, row, now, (ca) => this.signCrl(ca, [], 1, now, row.settings as CaSettings));
    return { crl: crl.pem, crlNumber: 1, crlNextUpdate: crl.nextUpdate };
  }

  private async save(scope: TenantScope, row: PrivateCertConfigurationEntity, changes: Partial<PrivateCertConfigurationEntity>): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await new ConfigurationStore(manager).update(scope, row.name, changes);
      await this.event(manager, 'secrets.configuration.updated', { ...row, ...changes });
    });
  }

  // ---------- CRLs ----------

  /** The CRL of a CA (public: anyone who verifies a certificate needs it). */
  async crl(request: SecretsWire.CrlRequest): Promise<SecretsWire.CrlResponse> {
    const instance = await new ConfigurationStore(this.dataSource.manager).crlOf(request.instanceGuid, request.name);
    if (!instance?.crl) throw notFound(`The CRL of ${request.name}`);
    return { crl: instance.crl };
  }

  /** Re-sign a CA's CRL with its current revocations (rotate_crl, and before it expires). */
  async refreshCrl(instance: InstanceEntity, scope: TenantScope, name: string, now: number): Promise<void> {
    await this.changeRevocations(instance, scope, name, now, (revoked) => revoked);
  }

  /** Add a serial (hex) to a CA's revocations and re-sign its CRL; the revocation time (the first one when it was already revoked). */
  async revoke(instance: InstanceEntity, caName: string, serial: string, now: number): Promise<number> {
    const scope = { accountId: instance.accountId, instanceGuid: instance.instanceGuid };
    let at = now;
    await this.changeRevocations(instance, scope, caName, now, (revoked) => {
      const existing = revoked.find((entry) => entry.serial.toLowerCase() === serial.toLowerCase());
      if (existing) {
        at = existing.revokedAt;
        return revoked;
      }
      return [...revoked, { serial: serial.toLowerCase(), revokedAt: now }];
    });
    return at;
  }

  private async changeRevocations(instance: InstanceEntity, scope: TenantScope, name: string, now: number, change: (revoked: RevokedCertificate[]) => RevokedCertificate[]): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const row = await this.configuration(scope, name);
      if (!isCa(row)) throw notFound(`Certificate authority ${name}`);
      const revoked = change([...row.revoked]);
      const crlNumber = row.crlNumber + 1;
      const crl = await this.withCa(instance, row, now, (ca) => this.signCrl(ca, revoked, crlNumber, now, row.settings as CaSettings));
      const changes = { revoked, crl: crl.pem, crlNumber, crlNextUpdate: crl.nextUpdate, updatedAt: now };
      const saved = await this.dataSource.transaction(async (manager) => {
        if (!(await new ConfigurationStore(manager).update(scope, name, changes, row.crlNumber))) return false;
        await this.event(manager, 'secrets.configuration.updated', { ...row, ...changes });
        return true;
      });
      if (saved) return;
    }
    throw conflict(`The CRL of ${name} changed concurrently: try again`);
  }

  /** CAs of every tenant whose CRL expires before `until` (the scheduler re-signs them). */
  dueCrls(until: number, limit: number): Promise<PrivateCertConfigurationEntity[]> {
    return new ConfigurationStore(this.dataSource.manager).dueCrlsOfAllTenants(until, limit);
  }

  // ---------- certificates ----------

  /** Issue a certificate from a template of the instance, for a new key or the caller's CSR. */
  async issue(instance: InstanceEntity, groupId: string, request: IssueRequest, now: number): Promise<IssuedCertificate> {
    const scope = { accountId: instance.accountId, instanceGuid: instance.instanceGuid };
    const store = new ConfigurationStore(this.dataSource.manager);
    const template = await store.get(scope, request.certificate_template);
    if (!template || template.configType !== TEMPLATE) throw fieldError('certificate_template', `certificate template ${request.certificate_template} does not exist in this instance`);
    const settings = template.settings as unknown as TemplateSettings;
    checkSecretGroup(settings, groupId, template.name);
    const altNames = allowedAltNames(settings, request);
    const ttl = certificateTtlSeconds(settings, request.ttl);
    const ca = await store.get(scope, settings.certificate_authority);
    if (!ca || !isCa(ca)) throw conflict(`The certificate authority ${settings.certificate_authority} of template ${template.name} no longer exists`);
    const caMax = seconds((ca.settings as CaSettings).max_ttl);
    if (caMax !== undefined && ttl > caMax) throw fieldError('ttl', `must be at most the certificate authority's max_ttl (${(ca.settings as CaSettings).max_ttl})`);
    let publicKey: CryptoKey | x509.PublicKey;
    let spec: KeySpec;
    let privateKey: CryptoKey | undefined;
    if (request.csr !== undefined) {
      const parsed = await parseCsr(request.csr);
      if (!parsed) throw fieldError('csr', 'is not a valid certificate signing request (malformed, its signature does not verify, or its key is not RSA 2048/4096 or EC P-256/P-384)');
      if (settings.key_type !== undefined && parsed.spec.keyType !== settings.key_type) throw fieldError('csr', `its key must be ${settings.key_type.toUpperCase()} (certificate template ${template.name})`);
      publicKey = parsed.request.publicKey;
      spec = parsed.spec;
    } else {
      spec = specOf(settings);
      const keys = await generateKeyPair(spec);
      publicKey = keys.publicKey;
      privateKey = keys.privateKey;
    }
    const { keyUsage, extKeyUsage } = usagesOf(settings);
    const { certificate, signer } = await this.withCa(instance, ca, now, async (opened) => ({
      certificate: await createLeafCertificate({
        subject: subjectName({ ...settings, common_name: request.common_name }),
        altNames,
        publicKey,
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(Math.min(now + ttl * 1000, opened.certificate.notAfter.getTime())),
        keyUsage,
        extKeyUsage,
        issuer: opened,
      }),
      signer: opened.spec,
    }));
    const details = certificateDetails(certificate, spec, signer, {
      certificate_template: template.name,
      certificate_authority: ca.name,
      common_name: request.common_name,
      alt_names: altNames.dns.filter((name) => name !== request.common_name),
      ...(request.ip_sans ? { ip_sans: request.ip_sans } : {}),
      ...(request.uri_sans ? { uri_sans: request.uri_sans } : {}),
      ...(request.ttl ? { ttl: request.ttl } : {}),
    });
    const caCertificate = ca.certificate ?? '';
    return {
      certificate: certificate.toString('pem'),
      ...(privateKey ? { private_key: await privateKeyPem(privateKey) } : {}),
      issuing_ca: caCertificate,
      ca_chain: [caCertificate, ...ca.caChain],
      details,
      notAfter: certificate.notAfter.getTime(),
    };
  }

  /** Whether a public key is one this engine issues for (used to check a CSR early). */
  static supports(publicKey: x509.PublicKey): boolean {
    return keySpecOf(publicKey) !== undefined;
  }
}
