import { join } from 'node:path';
import { z } from 'zod';
import { RewindError } from '../../engine/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { withFileLock } from './file-lock.js';
import { readJsonFile } from './read-json.js';

/**
 * The shape of Electron's `safeStorage`: the OS keychain (Keychain, DPAPI, libsecret/kwallet) encrypts,
 * we only ever hold the ciphertext. Injected so everything behind the shell runs without Electron.
 */
export interface SecretStore {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** Where remote connections' tokens (and sandboxes' secrets) live. `persistent` says whether they outlive this process. */
export interface TokenVault {
  readonly persistent: boolean;
  get(id: string): Promise<string | null>;
  set(id: string, token: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** The ids holding a value (never the values): a sandbox's secret names are read from them. */
  ids(): Promise<string[]>;
}

export const SECRETS_FILE = 'connection-secrets.json';

const secretsFileSchema = z.object({
  version: z.literal(1),
  /** Connection id → base64 of the keychain-encrypted token. Never plain text. */
  secrets: z.record(z.string(), z.string()),
});

function encryptionUnavailable(): RewindError {
  return new RewindError(
    'FORBIDDEN',
    'The OS keychain is not available, so Rewind will not store the token.',
    'Tokens are never written in plain text. Unlock or install a keychain (on Linux: gnome-keyring or KWallet, with a D-Bus session), then restart Rewind and add the connection again.',
  );
}

/** Tokens encrypted by the OS keychain, kept as base64 blobs in a file of their own beside the connections file. */
export function keychainVault(store: SecretStore, dir: string): TokenVault {
  const file = join(dir, SECRETS_FILE);

  const load = async (): Promise<Record<string, string>> => {
    const read = await readJsonFile(file);
    if (read.missing) return {};
    const parsed = secretsFileSchema.safeParse(read.value);
    if (!parsed.success) {
      throw new RewindError('INTERNAL', `${file} is not a Rewind secrets file.`, 'Move the file aside and add the remote connections’ tokens again.');
    }
    return parsed.data.secrets;
  };
  const save = (secrets: Record<string, string>) =>
    writeFileAtomic(file, `${JSON.stringify({ version: 1, secrets }, null, 2)}\n`);

  return {
    persistent: true,
    async get(id) {
      const blob = (await load())[id];
      if (blob === undefined || !store.isEncryptionAvailable()) return null;
      try {
        return store.decryptString(Buffer.from(blob, 'base64'));
      } catch {
        // A keychain that changed (new OS user, reset login keyring) cannot open old blobs.
        return null;
      }
    },
    async set(id, token) {
      if (!store.isEncryptionAvailable()) throw encryptionUnavailable();
      const blob = store.encryptString(token).toString('base64');
      // Under the lock every console shares, so two consoles' tokens never overwrite each other.
      await withFileLock(file, async () => {
        const secrets = await load();
        secrets[id] = blob;
        await save(secrets);
      });
    },
    async delete(id) {
      await withFileLock(file, async () => {
        const secrets = await load();
        if (!(id in secrets)) return;
        delete secrets[id];
        await save(secrets);
      });
    },
    async ids() {
      return Object.keys(await load());
    },
  };
}

/**
 * Browser mode has no keychain: tokens stay in this process's memory and are gone when it exits.
 * They are never written to disk, not even obfuscated.
 */
export function sessionVault(): TokenVault {
  const tokens = new Map<string, string>();
  return {
    persistent: false,
    async get(id) {
      return tokens.get(id) ?? null;
    },
    async set(id, token) {
      tokens.set(id, token);
    },
    async delete(id) {
      tokens.delete(id);
    },
    async ids() {
      return [...tokens.keys()];
    },
  };
}

