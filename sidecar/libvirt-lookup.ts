// The sidecar's read-only questions to libvirtd (--libvirt.uri): a domain's uuid by name, and Nova's
// metadata in its XML (read by the exporter's code, libvirt/nova-metadata.ts). One supervised connection,
// opened at start and kept; a question libvirtd does not answer within CALL_TIMEOUT_MS rejects, and the
// records go on without what it would have added.
import { connect } from '../libvirt/client.js';
import { LibvirtError } from '../libvirt/errors.js';
import { readNovaMetadata } from '../libvirt/nova-metadata.js';
import type { NovaInstance } from '../libvirt/nova-instance.js';
import { ErrorCode } from '../libvirt/protocol.js';
import { ConnectionSupervisor } from '../libvirt/supervisor.js';
import type { Logger } from '../runtime/log.js';
import type { IdentityLookup } from './domain-identities.js';

/** Longest a lookup may hold up the records waiting for it. */
const CALL_TIMEOUT_MS = 2000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class LibvirtLookup implements IdentityLookup {
  private readonly connection: ConnectionSupervisor;

  constructor(uri: string, log: Logger) {
    this.connection = new ConnectionSupervisor({
      uri,
      connect,
      log,
      connectTimeoutMs: CALL_TIMEOUT_MS,
      backoffMinMs: BACKOFF_MIN_MS,
      backoffMaxMs: BACKOFF_MAX_MS,
    });
    this.connection.start();
  }

  async uuidOf(name: string): Promise<string | null> {
    const client = await this.connection.get();
    try {
      return (await client.domainLookupByName(name, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })).uuid;
    } catch (err) {
      if (err instanceof LibvirtError && err.code === ErrorCode.NO_DOMAIN) return null;
      throw err;
    }
  }

  async novaOf(uuid: string): Promise<NovaInstance | null> {
    const client = await this.connection.get();
    try {
      const domain = await client.domainLookupByUuid(uuid, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      const xml = await client.domainGetXmlDesc(domain, 0, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      return (await readNovaMetadata(xml)) ?? null;
    } catch (err) {
      if (err instanceof LibvirtError && err.code === ErrorCode.NO_DOMAIN) return null;
      throw err;
    }
  }

  stop(): Promise<void> {
    return this.connection.stop();
  }
}
