import { join } from 'node:path';
import { z } from 'zod';
import type { SandboxSecrets, SandboxSettings } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';
import { type SecretSource, envSecrets, layeredSecrets, staticSecrets } from '../../engine/executor/secrets.js';
import { writeFileAtomic } from './atomic-write.js';
import { withFileLock } from './file-lock.js';
import { readJsonFile } from './read-json.js';
import type { TokenVault } from './token-vault.js';

/*
 * How each sandbox connection runs real nodes. Its settings (live execution, commands) sit in a file
 * beside the connections file, as the connections do; its secrets sit in the token vault (the OS
 * keychain; browser mode: memory) under `sandbox-secret:<connection>:<NAME>`. The engine of an open
 * sandbox reads the secrets through one in-memory map, which set and delete keep current: a new
 * secret is used by the next node without reopening anything.
 */

export const SANDBOX_SETTINGS_FILE = 'sandbox-settings.json';

const settingsEntrySchema = z.object({ live_execution: z.boolean(), allow_commands: z.boolean() });
const settingsFileSchema = z.object({ version: z.literal(1), sandboxes: z.record(z.string(), settingsEntrySchema) });
type SettingsEntry = z.infer<typeof settingsEntrySchema>;

const OFFLINE: SettingsEntry = { live_execution: false, allow_commands: false };

/** What a sandbox is opened with: the SandboxOptions its settings and secrets give. */
export interface SandboxRuntime {
  liveExecution: boolean;
  runCommands: boolean;
  secrets: SecretSource;
}

const vaultPrefix = (connectionId: string) => `sandbox-secret:${connectionId}:`;

export class SandboxRuntimes {
  /** Each sandbox's keychain secrets once read: the map its engine's SecretSource reads. */
  private readonly values = new Map<string, Record<string, string>>();

  constructor(
    private readonly vault: TokenVault,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private get file(): string {
    return join(this.dir, SANDBOX_SETTINGS_FILE);
  }

  private async loadAll(): Promise<Record<string, SettingsEntry>> {
    const read = await readJsonFile(this.file);
    if (read.missing) return {};
    const parsed = settingsFileSchema.safeParse(read.value);
    if (!parsed.success) {
      throw new RewindError('VALIDATION_FAILED', `${this.file} is not a Rewind sandbox settings file.`, 'Move it aside: every sandbox then runs offline until its live execution is switched on again.');
    }
    return parsed.data.sandboxes;
  }

  private update(change: (all: Record<string, SettingsEntry>) => void): Promise<void> {
    // Under the lock every console shares, as the connections file is.
    return withFileLock(this.file, async () => {
      const all = await this.loadAll();
      change(all);
      await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, sandboxes: all }, null, 2)}\n`);
    });
  }

  async settings(connectionId: string): Promise<SandboxSettings> {
    const all = await this.loadAll();
    const entry = Object.hasOwn(all, connectionId) ? all[connectionId] : undefined;
    return { connection_id: connectionId, ...(entry ?? OFFLINE) };
  }

  async setSettings(connectionId: string, entry: SettingsEntry): Promise<SandboxSettings> {
    await this.update((all) => {
      all[connectionId] = { live_execution: entry.live_execution, allow_commands: entry.allow_commands };
    });
    return this.settings(connectionId);
  }

  /** The options to open the sandbox with; reads its keychain secrets the first time. */
  async runtime(connectionId: string): Promise<SandboxRuntime> {
    const { live_execution, allow_commands } = await this.settings(connectionId);
    return { liveExecution: live_execution, runCommands: live_execution && allow_commands, secrets: layeredSecrets(staticSecrets(await this.keychain(connectionId)), envSecrets(this.env)) };
  }

  private async keychain(connectionId: string): Promise<Record<string, string>> {
    const known = this.values.get(connectionId);
    if (known) return known;
    const values: Record<string, string> = {};
    const prefix = vaultPrefix(connectionId);
    for (const id of await this.vault.ids()) {
      if (!id.startsWith(prefix)) continue;
      // A value the keychain can no longer open (a reset login keyring) is left out, as a lost token is.
      const value = await this.vault.get(id);
      if (value !== null) values[id.slice(prefix.length)] = value;
    }
    this.values.set(connectionId, values);
    return values;
  }

  async secrets(connectionId: string): Promise<SandboxSecrets> {
    const keychain = Object.keys(await this.keychain(connectionId)).sort();
    const environment = envSecrets(this.env)
      .all()
      .map(([name]) => name)
      .sort();
    return { connection_id: connectionId, keychain, environment, persistent: this.vault.persistent };
  }

  async setSecret(connectionId: string, name: string, value: string): Promise<SandboxSecrets> {
    const values = await this.keychain(connectionId);
    // The keychain first: when it refuses, the sandbox keeps what it had.
    await this.vault.set(`${vaultPrefix(connectionId)}${name}`, value);
    values[name] = value;
    return this.secrets(connectionId);
  }

  async deleteSecret(connectionId: string, name: string): Promise<SandboxSecrets> {
    const values = await this.keychain(connectionId);
    await this.vault.delete(`${vaultPrefix(connectionId)}${name}`);
    delete values[name];
    return this.secrets(connectionId);
  }

  /** A removed connection's settings and secrets go with it. */
  async forget(connectionId: string): Promise<void> {
    const values = await this.keychain(connectionId);
    for (const name of Object.keys(values)) {
      await this.vault.delete(`${vaultPrefix(connectionId)}${name}`);
      delete values[name];
    }
    await this.update((all) => {
      delete all[connectionId];
    });
  }
}
