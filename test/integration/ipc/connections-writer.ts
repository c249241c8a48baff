import { newConnectionId, updateConnections } from '../../../main/ipc/connections/connections-file.js';
import { keychainVault } from '../../../main/ipc/connections/token-vault.js';

/**
 * One console process adding connections, as concurrent consoles do: argv = folder, name prefix, count.
 * Each entry goes through the locked merge of the connections file, and its token into the secrets file.
 */
const [dir, prefix, countText] = process.argv.slice(2);
const store = {
  isEncryptionAvailable: () => true,
  encryptString: (s: string) => Buffer.from(`ENC:${s}`),
  decryptString: (b: Buffer) => b.toString().slice(4),
};
const vault = keychainVault(store, dir!);
for (let i = 0; i < Number(countText); i++) {
  const id = newConnectionId();
  await vault.set(id, `token-${prefix}-${i}`);
  await updateConnections(dir!, (current) => [...current, { id, name: `${prefix}-${i}`, url: 'https://rewind.example.com', environment: 'staging', color: '#d97706' }]);
}
