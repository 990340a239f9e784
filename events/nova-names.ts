// The OpenStack Nova names (instance name, project) of the domains the agent sees, so that an Eviction names
// the VM as the exporter's libvirt_domain_openstack_info and the log records do. Read from each domain's XML
// when the agent learns of the domain (the listing at connect, Started and Defined events), not when it
// crashes: by then a transient domain is gone, and the Eviction must not wait for libvirtd.
import { readNovaMetadata, type NovaInstance } from '../libvirt/nova-metadata.js';
import type { DomainRef, LibvirtClient } from '../libvirt/types.js';
import { errorText, type Logger } from '../runtime/log.js';

/** Domains whose names are kept; beyond it the longest known are forgotten (transient domains never say Undefined). */
const MAX_DOMAINS = 4096;

/** The Nova fields an Eviction carries, named as the exporter's labels and the records' fields. */
export interface NovaNames {
  readonly instance_name: string;
  readonly project_id: string;
}

export class NovaNameCache {
  /** uuid → the domain's Nova names, or null when its XML has no Nova metadata. */
  private readonly known = new Map<string, NovaNames | null>();
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly callTimeoutMs: number,
    private readonly log: Logger,
    private readonly maxDomains = MAX_DOMAINS,
  ) {}

  /**
   * Reads the domains' XML (again) in the background, one call at a time (a listing can hold thousands); a
   * failure is logged and leaves what was known.
   */
  learn(client: LibvirtClient, domains: readonly DomainRef[]): void {
    let chain: Promise<void> = Promise.resolve();
    for (const domain of domains) {
      const read = (chain = chain.then(() => this.read(client, domain)));
      this.reading.set(domain.uuid, read);
      void read.finally(() => {
        if (this.reading.get(domain.uuid) === read) this.reading.delete(domain.uuid);
      });
    }
  }

  private async read(client: LibvirtClient, domain: DomainRef): Promise<void> {
    try {
      const xml = await client.domainGetXmlDesc(domain, 0, { signal: AbortSignal.timeout(this.callTimeoutMs) });
      this.remember(domain.uuid, await readNovaMetadata(xml));
    } catch (err) {
      this.log('warn', 'cannot read the domain XML for its Nova metadata; its Evictions go without instance_name and project_id', { domain: domain.name, uuid: domain.uuid, error: errorText(err) });
    }
  }

  forget(uuid: string): void {
    this.known.delete(uuid);
  }

  /** The Nova names known of the domain (undefined: none, or not known). */
  get(uuid: string): NovaNames | undefined {
    return this.known.get(uuid) ?? undefined;
  }

  /** While the domain's XML is being read: settles when it is (never rejects). */
  pending(uuid: string): Promise<void> | undefined {
    return this.reading.get(uuid);
  }

  private remember(uuid: string, nova: NovaInstance | undefined): void {
    this.known.delete(uuid);
    this.known.set(uuid, nova ? { instance_name: nova.instanceName, project_id: nova.projectId } : null);
    for (const oldest of this.known.keys()) {
      if (this.known.size <= this.maxDomains) break;
      this.known.delete(oldest);
    }
  }
}
