import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RewindError } from '../errors.js';

/**
 * Webhook secrets at rest: sealed with AES-256-GCM under the server's webhook key. A hash would not
 * do — every delivery is signed with the secret itself — so the database holds only ciphertext, and a
 * copied database (or backup) without the key file gives no secret away. The key lives outside the
 * database: REWIND_WEBHOOK_KEY, or the key file beside a SQLite database (see main/server/webhook-key.ts).
 */
export class SecretBox {
  /** A fingerprint of the key (not the key): stored beside each sealed secret. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('A webhook key is 32 bytes.');
    this.keyId = createHash('sha256').update('rewind-webhook-key').update(key).digest('hex').slice(0, 16);
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url each. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, keyId: string): string {
    if (keyId !== this.keyId) {
      throw new RewindError(
        'WEBHOOK_KEY_MISMATCH',
        'This webhook\'s secret was sealed with another webhook key than this server has.',
        'Start every replica with the same REWIND_WEBHOOK_KEY (or the same key file), or delete the webhook and add it again.',
      );
    }
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('Unreadable sealed secret.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
