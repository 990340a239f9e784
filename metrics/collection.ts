// One collection per scrape: GET_ALL_DOMAIN_STATS with NOWAIT for every domain — one bulk call, or a few in
// parallel when libvirtd is slow per domain (see domainStats) — each call under a deadline. Scrapes that
// overlap share the collection in flight.
//
// NOWAIT makes libvirtd skip the monitor queries of a domain whose job someone else holds, but a domain whose
// QEMU hangs (SIGSTOPped, stuck storage) while *we* hold its job stalls the call it is in. Then the collection
// falls back to one call per domain: the hung domain's call times out and is counted against it, the others
// are exported. The stalled call keeps that domain's job busy, so later NOWAIT calls return at once.
import { ErrorCode, StatsFlag, StatsGroup } from '../libvirt/protocol.js';
import {
  CallAbortedError,
  ConnectionClosedError,
  LibvirtError,
  type DomainRef,
  type DomainStatsRecord,
  type LibvirtClient,
} from '../libvirt/types.js';
import type { LibvirtConnection } from './connection.js';
import { labelsOf, viewOf, type DomainLabels } from './domain-view.js';
import { errorText, type Logger } from '../runtime/log.js';
import { readNovaMetadata, type NovaInstance } from './nova.js';
import type { DomainFailures, Snapshot } from './snapshot.js';

/** The groups the collectors read. */
export const STATS_GROUPS =
  StatsGroup.STATE | StatsGroup.CPU_TOTAL | StatsGroup.BALLOON | StatsGroup.VCPU | StatsGroup.INTERFACE | StatsGroup.BLOCK;

/** Calls in flight at once; libvirtd serves 5 per client, one may be stalled. */
const CONCURRENCY = 4;
/**
 * libvirtd's time per domain from which a collection is split across CONCURRENCY calls. Domains whose stats it
 * holds in memory (inactive ones, the test driver's) cost microseconds; a running QEMU domain costs a monitor
 * round trip or more: about 1 ms under KVM, 15 ms under TCG.
 */
const SPLIT_PER_DOMAIN_MS = 0.25;

export interface CollectionOptions {
  readonly connection: LibvirtConnection;
  readonly log: Logger;
  /** Deadline of each libvirt call. */
  readonly callTimeoutMs: number;
  /** Deadline of the whole collection; calls are cut short to end by then. */
  readonly scrapeTimeoutMs: number;
  /** Read Nova metadata from the domain XML. */
  readonly openstack: boolean;
  /** Re-read a domain's XML after this long (it is also re-read when the domain restarts, i.e. its id changes). */
  readonly metadataTtlMs: number;
}

interface DomainStats {
  /** Every domain libvirtd reported. */
  readonly domains: readonly DomainRef[];
  /** The stats records that arrived (a timed-out domain has none). */
  readonly records: readonly DomainStatsRecord[];
}

interface MetadataEntry {
  readonly id: number;
  readonly fetchedAt: number;
  readonly nova: NovaInstance | undefined;
}

class Deadline {
  private readonly end: number;
  constructor(
    totalMs: number,
    private readonly callMs: number,
  ) {
    this.end = performance.now() + totalMs;
  }
  get expired(): boolean {
    return performance.now() >= this.end;
  }
  /** A signal for one call: the call deadline, cut to what is left of the collection. */
  signal(): AbortSignal {
    return AbortSignal.timeout(Math.max(1, Math.min(this.callMs, this.end - performance.now())));
  }
}

/** What one call attempt came to. */
type Outcome<T> = { ok: true; value: T } | { ok: false; kind: 'timeout' | 'gone' | 'error' | 'closed'; error: unknown };

export class Collection {
  private inflight: Promise<Snapshot> | undefined;
  private readonly failures = new Map<string, { domain: string; uuid: string; errors: number; timeouts: number }>();
  private readonly metadata = new Map<string, MetadataEntry>();
  /** Each domain's labels, the same object scrape after scrape: the exposition caches their text by identity. */
  private readonly labels = new Map<string, DomainLabels>();
  private lastOutcome = '';
  /** libvirtd's time per domain in the last collection's stats calls (summed over parallel calls). */
  private perDomainMs = 0;

  constructor(private readonly options: CollectionOptions) {}

  /** The snapshot of the collection in flight, or of a new one. */
  collect(): Promise<Snapshot> {
    this.inflight ??= this.run().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async run(): Promise<Snapshot> {
    const started = performance.now();
    const deadline = new Deadline(this.options.scrapeTimeoutMs, this.options.callTimeoutMs);
    const state = { answered: false, complete: true };
    let stats: DomainStats | undefined;
    let openstack = new Map<string, NovaInstance>();
    try {
      const client = await this.options.connection.get();
      stats = await this.domainStats(client, deadline, state);
      if (this.options.openstack) openstack = await this.novaMetadata(client, stats.records, deadline, state);
    } catch (err) {
      this.report('libvirtd unavailable', err);
    }
    if (stats) {
      this.forgetGone(stats.domains);
      if (state.complete) this.report('ok');
    } else state.complete = false;
    return {
      up: state.answered,
      domainCount: stats?.domains.length ?? 0,
      domains: (stats?.records ?? []).map((record) => viewOf(record, this.labelsOf(record.domain))),
      openstack,
      complete: state.complete,
      durationSeconds: (performance.now() - started) / 1000,
      failures: new Map([...this.failures].map(([uuid, f]) => [uuid, { ...f } satisfies DomainFailures])),
    };
  }

  /**
   * Every domain's stats. One bulk call while libvirtd answers it quickly. When the last collection took
   * SPLIT_PER_DOMAIN_MS or more per domain (running QEMU domains: libvirtd queries their monitors one after the
   * other), the listed domains are split across CONCURRENCY calls, which libvirtd serves on as many worker
   * threads. A call that fails or times out falls back to one call per domain for its domains.
   * Throws if libvirtd did not answer.
   */
  private async domainStats(
    client: LibvirtClient,
    deadline: Deadline,
    state: { answered: boolean; complete: boolean },
  ): Promise<DomainStats> {
    const split = this.perDomainMs >= SPLIT_PER_DOMAIN_MS;
    if (!split) {
      const started = performance.now();
      const bulk = await attempt(client.getAllDomainStats({ stats: STATS_GROUPS, flags: StatsFlag.NOWAIT, signal: deadline.signal() }));
      if (bulk.ok) {
        state.answered = true;
        this.perDomainMs = (performance.now() - started) / Math.max(1, bulk.value.length);
        return { domains: bulk.value.map((r) => r.domain), records: bulk.value };
      }
      if (bulk.kind === 'closed') throw bulk.error;
      if (bulk.kind !== 'timeout') state.answered = true;
      this.fallBack(state, bulk);
    }

    const listed = await attempt(client.listAllDomains(0, { signal: deadline.signal() }));
    if (!listed.ok) {
      if (listed.kind === 'error' || listed.kind === 'gone') state.answered = true;
      throw listed.error;
    }
    state.answered = true;
    const records: DomainStatsRecord[] = [];
    let oneByOne = listed.value;
    if (split) {
      oneByOne = [];
      let spentMs = 0;
      const calls = partition(listed.value, CONCURRENCY).map(async (domains) => {
        const started = performance.now();
        // NOWAIT and a domain list: libvirtd skips the listed domains that have gone meanwhile.
        const outcome = await attempt(client.getAllDomainStats({ stats: STATS_GROUPS, flags: StatsFlag.NOWAIT, domains, signal: deadline.signal() }));
        spentMs += performance.now() - started;
        return { domains, outcome };
      });
      for (const { domains, outcome } of await Promise.all(calls)) {
        if (outcome.ok) records.push(...outcome.value);
        else if (outcome.kind === 'closed') throw outcome.error;
        else {
          this.fallBack(state, outcome);
          oneByOne.push(...domains);
        }
      }
      this.perDomainMs = spentMs / Math.max(1, listed.value.length);
    }
    await forEachBounded(oneByOne, deadline, async (domain) => {
      // Without NOWAIT: a domain whose job is stuck makes this call wait and time out, which is what we count.
      const one = await attempt(client.getAllDomainStats({ stats: STATS_GROUPS, domains: [domain], signal: deadline.signal() }));
      if (one.ok) records.push(...one.value);
      else this.countFailure(domain, one);
    });
    return { domains: listed.value, records };
  }

  private fallBack(state: { complete: boolean }, failed: Outcome<unknown> & { ok: false }): void {
    state.complete = false;
    this.report(`domain stats call ${failed.kind === 'timeout' ? 'timed out' : 'failed'}, falling back to one call per domain`, failed.error);
  }

  /** Nova metadata of the domains that have it, from a cache refreshed per domain id change or TTL. */
  private async novaMetadata(
    client: LibvirtClient,
    records: readonly DomainStatsRecord[],
    deadline: Deadline,
    state: { answered: boolean; complete: boolean },
  ): Promise<Map<string, NovaInstance>> {
    const now = performance.now();
    const stale = records
      .map((r) => r.domain)
      .filter((d) => {
        const entry = this.metadata.get(d.uuid);
        return !entry || entry.id !== d.id || now - entry.fetchedAt >= this.options.metadataTtlMs;
      });
    await forEachBounded(stale, deadline, async (domain) => {
      const xml = await attempt(client.domainGetXmlDesc(domain, 0, { signal: deadline.signal() }));
      if (!xml.ok) {
        if (xml.kind !== 'gone') state.complete = false;
        this.countFailure(domain, xml);
        return;
      }
      try {
        this.metadata.set(domain.uuid, { id: domain.id, fetchedAt: performance.now(), nova: await readNovaMetadata(xml.value) });
      } catch (err) {
        state.complete = false;
        this.countFailure(domain, { ok: false, kind: 'error', error: err });
      }
    });
    const result = new Map<string, NovaInstance>();
    for (const { domain } of records) {
      const nova = this.metadata.get(domain.uuid)?.nova;
      if (nova) result.set(domain.uuid, nova);
    }
    return result;
  }

  private countFailure(domain: DomainRef, outcome: Outcome<unknown> & { ok: false }): void {
    if (outcome.kind === 'gone') return;
    let entry = this.failures.get(domain.uuid);
    if (!entry) this.failures.set(domain.uuid, (entry = { domain: domain.name, uuid: domain.uuid, errors: 0, timeouts: 0 }));
    if (outcome.kind === 'timeout') entry.timeouts++;
    else entry.errors++;
    this.options.log('warn', outcome.kind === 'timeout' ? 'libvirt call timed out' : 'libvirt call failed', {
      domain: domain.name,
      uuid: domain.uuid,
      error: errorText(outcome.error),
    });
  }

  private labelsOf(domain: DomainRef): DomainLabels {
    let labels = this.labels.get(domain.uuid);
    if (labels?.domain !== domain.name) this.labels.set(domain.uuid, (labels = labelsOf(domain)));
    return labels;
  }

  /** Drops the counters, metadata and labels of domains that no longer exist, so memory follows the domain count. */
  private forgetGone(domains: readonly DomainRef[]): void {
    const present = new Set(domains.map((d) => d.uuid));
    // forEach, not for-of over keys(): no iterator result per entry, and deleting while iterating is defined.
    for (const byUuid of [this.failures, this.metadata, this.labels] as Map<string, unknown>[]) {
      byUuid.forEach((_, uuid) => present.has(uuid) || byUuid.delete(uuid));
    }
  }

  /** Logs changes of the collection's overall outcome, not every scrape. */
  private report(outcome: string, err?: unknown): void {
    const line = err === undefined ? outcome : `${outcome}: ${errorText(err)}`;
    if (line === this.lastOutcome) return;
    this.lastOutcome = line;
    this.options.log(outcome === 'ok' ? 'info' : 'warn', outcome === 'ok' ? 'collecting domain stats' : outcome, err === undefined ? {} : { error: errorText(err) });
  }
}

async function attempt<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (error instanceof LibvirtError) return { ok: false, kind: error.code === ErrorCode.NO_DOMAIN ? 'gone' : 'error', error };
    if (error instanceof CallAbortedError) return { ok: false, kind: 'timeout', error };
    if (error instanceof ConnectionClosedError) return { ok: false, kind: 'closed', error };
    return { ok: false, kind: 'error', error };
  }
}

/** `items` in at most `parts` contiguous runs of near-equal length. */
function partition<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

/** Runs `work` over `items`, CONCURRENCY at a time, starting nothing new once the deadline has passed. */
async function forEachBounded<T>(items: readonly T[], deadline: Deadline, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !deadline.expired) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
