import pkcs11js from 'pkcs11js';
import type { Pkcs11Module } from '../shared-module.js';

type Handle = Buffer;
type Method = keyof Pkcs11Module;

function handle(value: number): Handle {
  const buffer = Buffer.alloc(8);
  buffer.writeUInt32LE(value);
  return buffer;
}

export function pkcs11Error(code: number): pkcs11js.Pkcs11Error {
  const name = Object.entries(pkcs11js).find(([key, value]) => key.startsWith('CKR_') && value === code)?.[0] ?? 'CKR_UNKNOWN';
  return new pkcs11js.Pkcs11Error(name, code);
}

interface FakeObject {
  readonly label: string;
  readonly token: boolean;
  /** The session a session object belongs to (it dies with it). */
  readonly session?: number;
}

/**
 * A typed fake of the PKCS#11 functions the backend calls, to test its session pool, login and
 * recovery logic without a token. Crypto is a stand-in (ciphertext = plaintext || 16 zero bytes):
 * real AES-GCM is the conformance suite's job on SoftHSM2. Async calls settle on a later tick, so
 * concurrent calls really overlap.
 */
export class FakePkcs11Module implements Pkcs11Module {
  readonly calls = new Map<Method, number>();
  /** The next call of a method fails with this CKR code (once). */
  readonly failNext = new Map<Method, number>();
  /** load() throws while true. */
  loadFails = false;
  initialized = false;
  loggedIn = false;
  readonly openSessions = new Set<number>();
  maxOpenSessions = 0;
  activeOperations = 0;
  maxActiveOperations = 0;
  /** C_GetTokenInfo answers CKR_TOKEN_NOT_PRESENT while true. */
  tokenGone = false;
  /** A call reached the module while it was not initialized. */
  usedWhileFinalized = false;

  private nextHandle = 1;
  private wrapped = 0;
  private readonly objects = new Map<number, FakeObject>();
  private readonly finding = new Map<number, number[]>();

  constructor(readonly tokenLabel = 'fake') {}

  private enter(method: Method): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const code = this.failNext.get(method);
    if (code !== undefined) {
      this.failNext.delete(method);
      throw pkcs11Error(code);
    }
    if (method !== 'load' && method !== 'C_Initialize' && !this.initialized) {
      this.usedWhileFinalized = true;
      throw pkcs11Error(pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED);
    }
  }

  private session(session: Handle): number {
    const id = session.readUInt32LE(0);
    if (!this.openSessions.has(id)) throw pkcs11Error(pkcs11js.CKR_SESSION_HANDLE_INVALID);
    return id;
  }

  private async later<T>(method: Method, run: () => T): Promise<T> {
    this.activeOperations += 1;
    this.maxActiveOperations = Math.max(this.maxActiveOperations, this.activeOperations);
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.enter(method);
      return run();
    } finally {
      this.activeOperations -= 1;
    }
  }

  load(_path: string): void {
    this.calls.set('load', (this.calls.get('load') ?? 0) + 1);
    if (this.loadFails) throw new Error('cannot open shared object file');
  }

  C_Initialize(_options?: pkcs11js.InitializationOptions): void {
    this.enter('C_Initialize');
    if (this.initialized) throw pkcs11Error(pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED);
    this.initialized = true;
  }

  C_Finalize(): void {
    this.enter('C_Finalize');
    this.initialized = false;
    this.loggedIn = false;
    this.openSessions.clear();
    for (const [id, object] of this.objects) if (!object.token) this.objects.delete(id);
  }

  C_GetSlotList(_tokenPresent?: boolean): Handle[] {
    this.enter('C_GetSlotList');
    return [handle(7)];
  }

  C_GetTokenInfo(_slot: Handle): pkcs11js.TokenInfo {
    this.enter('C_GetTokenInfo');
    if (this.tokenGone) throw pkcs11Error(pkcs11js.CKR_TOKEN_NOT_PRESENT);
    const version = { major: 1, minor: 0 };
    return {
      label: this.tokenLabel.padEnd(32, ' '),
      manufacturerID: 'fake',
      model: 'fake',
      serialNumber: '1',
      flags: 0,
      maxSessionCount: 0,
      sessionCount: this.openSessions.size,
      maxRwSessionCount: 0,
      rwSessionCount: this.openSessions.size,
      maxPinLen: 255,
      minPinLen: 4,
      hardwareVersion: version,
      firmwareVersion: version,
      utcTime: '',
      totalPublicMemory: 0,
      freePublicMemory: 0,
      totalPrivateMemory: 0,
      freePrivateMemory: 0,
    };
  }

  C_OpenSession(_slot: Handle, _flags: number): Handle {
    this.enter('C_OpenSession');
    const id = this.nextHandle++;
    this.openSessions.add(id);
    this.maxOpenSessions = Math.max(this.maxOpenSessions, this.openSessions.size);
    return handle(id);
  }

  C_CloseSession(session: Handle): void {
    this.enter('C_CloseSession');
    const id = this.session(session);
    this.openSessions.delete(id);
    for (const [handle, object] of this.objects) if (object.session === id) this.objects.delete(handle);
    if (this.openSessions.size === 0) this.loggedIn = false;
  }

  C_Login(session: Handle, _userType: number, pin?: string): void {
    this.enter('C_Login');
    this.session(session);
    if (pin !== 'good-pin') throw pkcs11Error(pkcs11js.CKR_PIN_INCORRECT);
    if (this.loggedIn) throw pkcs11Error(pkcs11js.CKR_USER_ALREADY_LOGGED_IN);
    this.loggedIn = true;
  }

  C_CreateObject(session: Handle, template: pkcs11js.Template): Handle {
    this.enter('C_CreateObject');
    return this.create(template, this.session(session));
  }

  C_DestroyObject(session: Handle, object: Handle): void {
    this.enter('C_DestroyObject');
    this.session(session);
    if (!this.objects.delete(object.readUInt32LE(0))) throw pkcs11Error(pkcs11js.CKR_OBJECT_HANDLE_INVALID);
  }

  C_FindObjectsInit(session: Handle, template: pkcs11js.Template): void {
    this.enter('C_FindObjectsInit');
    const label = template.find((attribute) => attribute.type === pkcs11js.CKA_LABEL)?.value;
    const found = [...this.objects].filter(([, object]) => object.token && object.label === label).map(([id]) => id);
    this.finding.set(this.session(session), found);
  }

  C_FindObjects(session: Handle): Handle | null;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjects(session: Handle, maxObjectCount?: number): Handle[] | Handle | null {
    this.enter('C_FindObjects');
    const found = (this.finding.get(this.session(session)) ?? []).map(handle);
    return maxObjectCount === undefined ? (found[0] ?? null) : found.slice(0, maxObjectCount);
  }

  C_FindObjectsFinal(session: Handle): void {
    this.enter('C_FindObjectsFinal');
    this.finding.delete(this.session(session));
  }

  C_EncryptInit(session: Handle, _mechanism: pkcs11js.Mechanism, key: Handle): void {
    this.enter('C_EncryptInit');
    this.session(session);
    if (!this.objects.has(key.readUInt32LE(0))) throw pkcs11Error(pkcs11js.CKR_KEY_HANDLE_INVALID);
  }

  C_EncryptAsync(session: Handle, inData: Buffer, outData: Buffer): Promise<Buffer> {
    return this.later('C_EncryptAsync', () => {
      this.session(session);
      inData.copy(outData);
      outData.fill(0, inData.length, inData.length + 16);
      return outData.subarray(0, inData.length + 16);
    });
  }

  C_EncryptFinal(session: Handle, outData: Buffer): Buffer {
    this.enter('C_EncryptFinal');
    this.session(session);
    outData.fill(0, 0, 16);
    return outData.subarray(0, 16);
  }

  C_DecryptInit(session: Handle, _mechanism: pkcs11js.Mechanism, key: Handle): void {
    this.enter('C_DecryptInit');
    this.session(session);
    if (!this.objects.has(key.readUInt32LE(0))) throw pkcs11Error(pkcs11js.CKR_KEY_HANDLE_INVALID);
  }

  C_DecryptAsync(session: Handle, inData: Buffer, outData: Buffer): Promise<Buffer> {
    return this.later('C_DecryptAsync', () => {
      this.session(session);
      const tag = inData.subarray(inData.length - 16);
      // SoftHSM2 reports a tag mismatch as CKR_GENERAL_ERROR.
      if (tag.some((byte) => byte !== 0)) throw pkcs11Error(pkcs11js.CKR_GENERAL_ERROR);
      inData.copy(outData, 0, 0, inData.length - 16);
      return outData.subarray(0, inData.length - 16);
    });
  }

  C_GenerateKeyAsync(session: Handle, _mechanism: pkcs11js.Mechanism, template: pkcs11js.Template): Promise<Handle> {
    return this.later('C_GenerateKeyAsync', () => this.create(template, this.session(session)));
  }

  C_WrapKeyAsync(session: Handle, _mechanism: pkcs11js.Mechanism, _wrappingKey: Handle, _key: Handle, wrappedKey: Buffer): Promise<Buffer> {
    return this.later('C_WrapKeyAsync', () => {
      this.session(session);
      // Distinct blobs, as a real wrap of distinct keys gives.
      const blob = wrappedKey.subarray(0, 40).fill(1);
      blob.writeUInt32BE((this.wrapped += 1), 0);
      return blob;
    });
  }

  C_UnwrapKeyAsync(session: Handle, _mechanism: pkcs11js.Mechanism, _unwrappingKey: Handle, _wrappedKey: Buffer, template: pkcs11js.Template): Promise<Handle> {
    return this.later('C_UnwrapKeyAsync', () => this.create(template, this.session(session)));
  }

  /** Token objects of this fake (session objects excluded). */
  tokenObjects(): number {
    return [...this.objects.values()].filter((object) => object.token).length;
  }

  /** Session objects alive (unwrapped or generated keys not destroyed, whose session is open). */
  sessionObjects(): number {
    return [...this.objects.values()].filter((object) => !object.token).length;
  }

  private create(template: pkcs11js.Template, session: number): Handle {
    const label = template.find((attribute) => attribute.type === pkcs11js.CKA_LABEL)?.value;
    const token = template.find((attribute) => attribute.type === pkcs11js.CKA_TOKEN)?.value === true;
    const id = this.nextHandle++;
    this.objects.set(id, { label: typeof label === 'string' ? label : '', token, ...(token ? {} : { session }) });
    return handle(id);
  }
}
