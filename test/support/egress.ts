import { buildConnector } from 'undici';
import type { ResolvedAddress } from '../../main/engine/egress/egress.js';

/*
 * What the egress tests inject instead of the system resolver and connector: a table of names to
 * addresses (so "a name resolving to the metadata service" needs no DNS), and a connector that
 * records every address dialled and dials only loopback — anything else fails the test rather than
 * leaving the machine.
 */

export interface Probe {
  resolve: (hostname: string) => Promise<ResolvedAddress[]>;
  connect: buildConnector.connector;
  /** Every name looked up, in order. */
  looked: string[];
  /** Every address the policy let through to the connector, in order. */
  dialled: string[];
}

export function egressProbe(names: Record<string, string[]>): Probe {
  const looked: string[] = [];
  const dialled: string[] = [];
  const real = buildConnector({});
  return {
    looked,
    dialled,
    resolve: async (hostname) => {
      looked.push(hostname);
      const found = names[hostname.toLowerCase()];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    connect: (opts, callback) => {
      dialled.push(opts.hostname);
      if (opts.hostname !== '127.0.0.1' && opts.hostname !== '::1') {
        callback(new Error(`test connector: refusing to dial ${opts.hostname} (tests never leave loopback)`), null);
        return;
      }
      real(opts, callback);
    },
  };
}

/** Every spelling of the AWS/GCP/Azure metadata address a URL can carry, and the other metadata hosts. */
export const metadataUrls = [
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://169.254.0.1/',
  'http://2852039166/latest/meta-data/',
  'http://0xa9fea9fe/latest/meta-data/',
  'http://0251.0376.0251.0376/latest/meta-data/',
  'http://169.254.43518/latest/meta-data/',
  'http://[::ffff:169.254.169.254]/latest/meta-data/',
  'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
  'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://[fe80::1]/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.google.internal./computeMetadata/v1/',
];
