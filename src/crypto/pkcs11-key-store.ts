/**
 * The PKCS#11 key store, `pkcs11:module=PATH;token=LABEL;pin-file=PATH`: KEKs are AES-256 secret-key
 * objects on the token (CKA_TOKEN, CKA_SENSITIVE, not CKA_EXTRACTABLE), found by CKA_LABEL = the KEK's
 * name; wrapping is CKM_AES_GCM inside the HSM (random 96-bit IV, 128-bit tag, the name as AAD), so a KEK
 * never leaves it. Through pkcs11js (a maintained binding, N-API); tested against SoftHSM2.
 *
 * The PIN is read from pin-file (never from the command line, where `ps` would show it).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KeyDestroyed, KeyStoreMissing, KeyStoreUnavailable, KeyStoreWrong } from '../errors.js';
import type { KeyStore, KeyStoreSpec } from './key-store.js';

type Pkcs11Module = typeof import('pkcs11js');
type Handle = Buffer;

const kIvBytes = 12;

function loadBinding(): Pkcs11Module {
  try {
    return createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
  } catch (err) {
    throw KeyStoreUnavailable(`the PKCS#11 binding (pkcs11js) is not installed: ${(err as Error).message}`);
  }
}

export class Pkcs11KeyStore implements KeyStore {
  readonly kind = 'pkcs11' as const;
  private readonly handles = new Map<string, Handle>();

  private constructor(
    readonly spec: string,
    private readonly lib: Pkcs11Module,
    private readonly p11: InstanceType<Pkcs11Module['PKCS11']>,
    private readonly session: Handle,
  ) {}

  static async open(spec: Extract<KeyStoreSpec, { kind: 'pkcs11' }>): Promise<Pkcs11KeyStore> {
    const lib = loadBinding();
    let pin: string;
    try {
      pin = readFileSync(spec.pinFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw KeyStoreMissing(`PIN file of ${spec.spec} cannot be read: ${(err as Error).message}`);
    }
    const p11 = new lib.PKCS11();
    try {
      p11.load(spec.module);
    } catch (err) {
      throw KeyStoreMissing(`PKCS#11 module ${spec.module} cannot be loaded: ${(err as Error).message}`);
    }
    try {
      p11.C_Initialize();
    } catch (err) {
      if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(err))) throw KeyStoreUnavailable(`PKCS#11 initialisation failed: ${(err as Error).message}`);
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === spec.token);
    if (!slot) {
      p11.C_Finalize();
      throw KeyStoreMissing(`no PKCS#11 token labelled ${JSON.stringify(spec.token)} in ${spec.module}`);
    }
    const session = p11.C_OpenSession(slot, lib.CKF_RW_SESSION | lib.CKF_SERIAL_SESSION);
    try {
      p11.C_Login(session, lib.CKU_USER, pin);
    } catch (err) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(err))) {
        p11.C_CloseSession(session);
        throw KeyStoreWrong(`PKCS#11 login to token ${spec.token} failed: ${(err as Error).message}`);
      }
    }
    return new Pkcs11KeyStore(spec.spec, lib, p11, session);
  }

  private find(label?: string): Handle[] {
    const template: Array<{ type: number; value: unknown }> = [{ type: this.lib.CKA_CLASS, value: this.lib.CKO_SECRET_KEY }];
    if (label !== undefined) template.push({ type: this.lib.CKA_LABEL, value: label });
    this.p11.C_FindObjectsInit(this.session, template as never);
    const out: Handle[] = [];
    try {
      for (;;) {
        const batch = this.p11.C_FindObjects(this.session, 256);
        if (batch.length === 0) break;
        out.push(...batch);
      }
    } finally {
      this.p11.C_FindObjectsFinal(this.session);
    }
    return out;
  }

  private handle(name: string): Handle {
    const have = this.handles.get(name);
    if (have) return have;
    const found = this.find(name);
    if (found.length === 0) throw KeyDestroyed(`key ${name} does not exist in ${this.spec}`, { key: name });
    this.handles.set(name, found[0]!);
    return found[0]!;
  }

  async create(name: string): Promise<void> {
    if (await this.has(name)) return;
    const L = this.lib;
    const h = this.p11.C_GenerateKey(this.session, { mechanism: L.CKM_AES_KEY_GEN, parameter: undefined as never }, [
      { type: L.CKA_CLASS, value: L.CKO_SECRET_KEY },
      { type: L.CKA_KEY_TYPE, value: L.CKK_AES },
      { type: L.CKA_VALUE_LEN, value: 32 },
      { type: L.CKA_TOKEN, value: true },
      { type: L.CKA_PRIVATE, value: true },
      { type: L.CKA_SENSITIVE, value: true },
      { type: L.CKA_EXTRACTABLE, value: false },
      { type: L.CKA_ENCRYPT, value: true },
      { type: L.CKA_DECRYPT, value: true },
      { type: L.CKA_LABEL, value: name },
    ] as never);
    this.handles.set(name, h);
  }

  async has(name: string): Promise<boolean> {
    if (this.handles.has(name)) return true;
    return this.find(name).length > 0;
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for (const h of this.find()) {
      const [attr] = this.p11.C_GetAttributeValue(this.session, h, [{ type: this.lib.CKA_LABEL }] as never);
      const label = (attr?.value as Buffer | undefined)?.toString('utf8') ?? '';
      if (label.startsWith(prefix)) names.push(label);
    }
    return names.sort();
  }

  async destroy(name: string): Promise<void> {
    this.handles.delete(name);
    for (const h of this.find(name)) this.p11.C_DestroyObject(this.session, h);
  }

  private gcm(iv: Buffer, name: string) {
    return { mechanism: this.lib.CKM_AES_GCM, parameter: { type: this.lib.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(name), ivBits: kIvBytes * 8, tagBits: 128 } };
  }

  async wrap(name: string, dataKey: Uint8Array): Promise<Buffer> {
    const key = this.handle(name);
    const iv = randomBytes(kIvBytes);
    this.p11.C_EncryptInit(this.session, this.gcm(iv, name) as never, key);
    const out = this.p11.C_Encrypt(this.session, Buffer.from(dataKey), Buffer.alloc(dataKey.length + 16));
    return Buffer.concat([iv, out]);
  }

  async unwrap(name: string, wrapped: Uint8Array): Promise<Buffer> {
    const key = this.handle(name);
    const w = Buffer.from(wrapped);
    if (w.length < kIvBytes + 16) throw KeyStoreWrong(`a key wrapped under ${name} is too short`);
    try {
      this.p11.C_DecryptInit(this.session, this.gcm(w.subarray(0, kIvBytes), name) as never, key);
      return Buffer.from(this.p11.C_Decrypt(this.session, w.subarray(kIvBytes), Buffer.alloc(w.length)));
    } catch (err) {
      throw KeyStoreWrong(`a key wrapped under ${name} does not open with ${this.spec}: ${(err as Error).message}`, { key: name });
    }
  }

  async close(): Promise<void> {
    try {
      this.p11.C_Logout(this.session);
    } catch { /* already logged out */ }
    try {
      this.p11.C_CloseSession(this.session);
      this.p11.C_Finalize();
    } catch { /* closed */ }
  }
}
