// What the sidecar knows of each domain's identity (docs/records.md#identity), shared by its sources: the
// uuid of each domain name, learnt from every record that carries both (QEMU-log records after their
// command line, libvirtd's taint message at every start), given to libvirtd records that name a domain
// without its uuid; and, with --libvirt.uri, what a read-only libvirt lookup adds: the uuid of a name not
// seen yet, and the Nova instance's name and project from the domain XML.
//
// Bounded: each map keeps the most recently used MAX_DOMAINS entries (a hypervisor runs hundreds of
// domains, not thousands); a name forgotten is learnt again from its next command line or lookup.
import type { LogRecord } from '../parsers/record.js';
import type { NovaInstance } from '../libvirt/nova-instance.js';

/** Names (and uuids) remembered at most, each map. */
export const MAX_DOMAINS = 4096;
/** How long a name libvirt did not know (or could not answer for) is not asked about again. */
const MISS_RETRY_MS = 30_000;
/** How long Nova metadata is reused: it changes rarely (a rename, a resize), never its project. */
const NOVA_TTL_MS = 5 * 60_000;

/** Read-only questions to libvirtd (sidecar/libvirt-lookup.ts); each rejects when libvirtd cannot answer. */
export interface IdentityLookup {
  /** The uuid of the domain named `name` now, or null when there is none. */
  uuidOf(name: string): Promise<string | null>;
  /** Nova's metadata in the domain's XML, or null when it has none (or the domain is gone). */
  novaOf(uuid: string): Promise<NovaInstance | null>;
}

/** A Map that forgets its least recently used entry beyond `capacity`. */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}

interface NovaEntry {
  readonly nova: NovaInstance | null;
  readonly at: number;
}

export class DomainIdentities {
  private readonly uuids = new LruMap<string, string>(MAX_DOMAINS);
  private readonly misses = new LruMap<string, number>(MAX_DOMAINS);
  private readonly nova = new LruMap<string, NovaEntry>(MAX_DOMAINS);

  constructor(
    private readonly lookup: IdentityLookup | null = null,
    private readonly onLookup: (result: 'found' | 'unknown' | 'error') => void = () => undefined,
  ) {}

  /** The uuid last seen for `name`. */
  uuidOf(name: string): string | undefined {
    return this.uuids.get(name);
  }

  /**
   * Adds what is known to `records` in place: learns name → uuid from those that carry both, gives a
   * named domain's uuid to those without, and asks libvirt (when configured) for the rest and for Nova's
   * metadata. Returns a promise only when libvirt must be asked: the common batch stays synchronous.
   */
  identify(records: readonly LogRecord[]): Promise<void> | undefined {
    let unknownNames: Set<string> | undefined;
    let novaFor: Set<string> | undefined;
    const now = Date.now();
    // A batch is mostly one domain's records with one uuid: the LRU is touched once per run of them.
    let learntName: string | undefined;
    let learntUuid: string | undefined;
    for (const r of records) {
      const name = r.domain;
      if (name === null) continue;
      if (r.uuid !== undefined) {
        if (name !== learntName || r.uuid !== learntUuid) {
          if (this.uuids.get(name) !== r.uuid) this.uuids.set(name, r.uuid);
          learntName = name;
          learntUuid = r.uuid;
        }
      } else {
        const known = this.known(r);
        if (known !== undefined) r.uuid = known;
        else if (this.lookup !== null && !((this.misses.get(name) ?? -Infinity) > now - MISS_RETRY_MS)) (unknownNames ??= new Set()).add(name);
      }
      if (this.lookup !== null && r.uuid !== undefined && !this.novaFresh(r.uuid, now)) (novaFor ??= new Set()).add(r.uuid);
    }
    if (unknownNames === undefined && novaFor === undefined) {
      if (this.lookup !== null) this.stampNova(records);
      return undefined;
    }
    return this.ask(records, unknownNames, novaFor);
  }

  private novaFresh(uuid: string, now: number): boolean {
    const entry = this.nova.get(uuid);
    return entry !== undefined && entry.at > now - NOVA_TTL_MS;
  }

  private async ask(records: readonly LogRecord[], names: Set<string> | undefined, novaFor: Set<string> | undefined): Promise<void> {
    const lookup = this.lookup!;
    const found = new Map<string, string>();
    for (const name of names ?? []) {
      try {
        const uuid = await lookup.uuidOf(name);
        this.onLookup(uuid === null ? 'unknown' : 'found');
        if (uuid === null) this.misses.set(name, Date.now());
        else {
          found.set(name, uuid);
          this.uuids.set(name, uuid);
          this.misses.delete(name);
          (novaFor ??= new Set()).add(uuid);
        }
      } catch {
        this.onLookup('error');
        this.misses.set(name, Date.now());
      }
    }
    for (const uuid of novaFor ?? []) {
      if (this.novaFresh(uuid, Date.now())) continue;
      try {
        this.nova.set(uuid, { nova: await lookup.novaOf(uuid), at: Date.now() });
      } catch {
        // libvirtd did not answer: the records go without Nova's fields; asked again with the next batch.
        this.onLookup('error');
      }
    }
    for (const r of records) {
      if (r.domain === null || r.uuid !== undefined) continue;
      const uuid = found.get(r.domain);
      if (uuid !== undefined) r.uuid = uuid;
    }
    this.stampNova(records);
  }

  /**
   * The uuid a record without one takes from what was seen: a libvirtd record, the uuid last seen for its
   * name; a QEMU-log record none (its own log or the checkpoint decides, so the sidecar and `parse` agree).
   */
  private known(r: LogRecord): string | undefined {
    return r.source === 'libvirtd' ? this.uuids.get(r.domain!) : undefined;
  }

  private stampNova(records: readonly LogRecord[]): void {
    for (const r of records) {
      if (r.uuid === undefined) continue;
      const nova = this.nova.get(r.uuid)?.nova;
      if (!nova) continue;
      r.instance_name = nova.instanceName;
      r.project_id = nova.projectId;
    }
  }
}
