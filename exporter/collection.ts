// One collection per scrape: GET_ALL_DOMAIN_STATS with NOWAIT for every domain — one bulk call, or a few in
// parallel when libvirtd is slow per domain (see domainStats) — each call under a deadline. Scrapes that
// overlap share the collection in flight.
//
// NOWAIT makes libvirtd skip the monitor queries of a domain whose job someone else holds, but a domain whose
// QEMU hangs (SIGSTOPped, stuck storage) while *we* hold its job stalls the call it is in. So a stats call that
// has not answered after its hedge delay is joined by one call per domain of its domains (without NOWAIT), all
// ending at the stalled call's deadline: the hung domain's own call times out and is counted against it, the
// others are exported in the same scrape, and a hung domain costs a scrape one call deadline. The stalled call
// keeps that domain's job busy, so later NOWAIT calls return at once but without what only QEMU can tell; the
// domain stays marked (libvirt_exporter_domain_stats_missing) until libvirtd is done with our stalled calls.
//
// Running QEMU domains' CPU and vCPU times come from two small calls per domain instead of the cpu-total and
// vcpu groups (see RUNNING_GROUPS): libvirt answers them without QEMU's monitor or the domain's job.
import { ErrorCode, Limits, StatsFlag, StatsGroup } from '../libvirt/protocol.js';
import { parseUri } from '../libvirt/uri.js';
import { withCpuTimes } from '../libvirt/cpu-times.js';
import { sleep } from '../runtime/backoff.js';
import { releasedDeadline } from '../runtime/deadline.js';
import {
  CallAbortedError,
  ConnectionClosedError,
  LibvirtError,
  type DomainRef,
  type DomainStatsRecord,
  type LibvirtClient,
  type DomainCpuTotals,
  type VcpuInfo,
} from '../libvirt/types.js';
import type { ConnectionSupervisor } from '../libvirt/supervisor.js';
import { labelsOf, viewOf, type DomainLabels } from './domain-view.js';
import { errorText, type Logger } from '../runtime/log.js';
import { readNovaMetadata, type NovaInstance } from '../libvirt/nova-metadata.js';
import { NOVA_NAMESPACE } from '../libvirt/nova-instance.js';
import type { DomainFailures, Snapshot } from './snapshot.js';

/** The groups the collectors read. */
export const STATS_GROUPS =
  StatsGroup.STATE | StatsGroup.CPU_TOTAL | StatsGroup.BALLOON | StatsGroup.VCPU | StatsGroup.INTERFACE | StatsGroup.BLOCK;

/**
 * The groups asked for running domains of the QEMU driver once libvirtd is slow per domain (a split collection).
 * libvirt 9.0 sends a domain's QEMU eight monitor commands for STATS_GROUPS, three of them (query-stats twice,
 * query-stats-schemas) for the cpu-total and vcpu groups' KVM figures, which no collector reads; the CPU and vCPU
 * times those groups also carry come instead from DOMAIN_GET_CPU_STATS and DOMAIN_GET_VCPUS
 * (libvirt/cpu-times.ts), which libvirt answers from the cgroup and /proc. The vCPU threads' wait and delay come
 * only with the vcpu group: with vcpuScheduling it stays (RUNNING_GROUPS_WITH_VCPU), and GET_VCPUS is not needed.
 */
const RUNNING_GROUPS = STATS_GROUPS & ~(StatsGroup.CPU_TOTAL | StatsGroup.VCPU);
const RUNNING_GROUPS_WITH_VCPU = STATS_GROUPS & ~StatsGroup.CPU_TOTAL;
/** vCPUs asked of DOMAIN_GET_VCPUS (libvirtd clears room for as many); a domain with this many online is asked for all. */
const VCPUS_FIRST_ASK = 256;

/**
 * Stats calls in flight at once; libvirtd serves 5 per client (max_client_requests), one may be stalled. The
 * running QEMU domains' CPU-time calls run alongside, one at a time; each is answered at once, so they are
 * normally done long before a stalled call is hedged (HEDGE_MIN_MS).
 */
const CONCURRENCY = 4;
/**
 * libvirtd's time per domain from which a collection is split across CONCURRENCY calls. Domains whose stats it
 * holds in memory (inactive ones, the test driver's) cost microseconds; a running QEMU domain costs a monitor
 * round trip or more (per-domain times: bench/RESULTS.md#exporter).
 */
const SPLIT_PER_DOMAIN_MS = 0.25;
/**
 * A stats call still unanswered this long after it was sent (and HEDGE_FACTOR × the last collection's stats
 * time) is presumed stuck on a hung domain and joined by one call per domain. At most half the call deadline,
 * so the per-domain calls get the other half.
 */
const HEDGE_MIN_MS = 1000;
const HEDGE_FACTOR = 4;

export interface CollectionOptions {
  readonly connection: Pick<ConnectionSupervisor, 'get'>;
  readonly log: Logger;
  /** Deadline of each libvirt call. */
  readonly callTimeoutMs: number;
  /** Deadline of the whole collection; calls are cut short to end by then. */
  readonly scrapeTimeoutMs: number;
  /** Read Nova metadata from the domain XML. */
  readonly openstack: boolean;
  /** Export the vCPU threads' wait and delay: running domains keep the vcpu group, which alone gives them (see RUNNING_GROUPS). */
  readonly vcpuScheduling: boolean;
  /** Re-read a domain's XML after this long (it is also re-read when the domain restarts, i.e. its id changes). */
  readonly metadataTtlMs: number;
}

interface DomainStats {
  /** Every domain libvirtd reported. */
  readonly domains: readonly DomainRef[];
  /** The stats records that arrived (a timed-out domain has none). */
  readonly records: readonly DomainStatsRecord[];
}

/** What one collection has observed so far. */
interface CollectionState {
  /** libvirtd answered a call. */
  answered: boolean;
  /** Every call succeeded. */
  complete: boolean;
  /** The domain listing, once one arrived. */
  listed: readonly DomainRef[] | undefined;
  /** Domains whose stats (or part of them) are missing from this collection, by uuid. */
  readonly missing: Map<string, DomainRef>;
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
  /** When a call sent now must end: the call deadline, cut to what is left of the collection. */
  callEnd(): number {
    return Math.min(performance.now() + this.callMs, this.end);
  }
  signal(): AbortSignal {
    return signalUntil(this.callEnd());
  }

  /** `call` under a deadline at callEnd(), released as soon as the call settles (runtime/deadline.ts says why). */
  async call<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = releasedDeadline(Math.max(1, Math.ceil(this.callEnd() - performance.now())));
    try {
      return await call(deadline.signal);
    } finally {
      deadline.done();
    }
  }
}

/** A deadline signal for `end` (a performance.now() time); AbortSignal.timeout takes whole milliseconds only. */
function signalUntil(end: number): AbortSignal {
  return AbortSignal.timeout(Math.max(1, Math.ceil(end - performance.now())));
}

/** One stats call of a collection: its domains (undefined: every domain) and groups. */
interface StatsCall {
  readonly domains: readonly DomainRef[] | undefined;
  readonly stats: number;
  /** Its records get the CPU times, and the vCPU times unless `stats` has the vcpu group, of the per-domain calls. */
  readonly cpuTimes: boolean;
}

/** A running domain's CPU and vCPU times, from the per-domain calls (undefined: not asked, or the call failed). */
interface CpuTimes {
  readonly totals: DomainCpuTotals | undefined;
  readonly vcpus: readonly VcpuInfo[] | undefined;
}

/** What one call attempt came to ('cancelled': we no longer needed it). */
type Outcome<T> = { ok: true; value: T } | Failure;
type Failure = { ok: false; kind: 'timeout' | 'cancelled' | 'gone' | 'error' | 'closed'; error: unknown };

export class Collection {
  private inflight: Promise<Snapshot> | undefined;
  private readonly failures = new Map<string, { domain: string; uuid: string; errors: number; timeouts: number }>();
  private readonly metadata = new Map<string, MetadataEntry>();
  /** Each domain's labels, the same object scrape after scrape: the exposition caches their text by identity. */
  private readonly labels = new Map<string, DomainLabels>();
  /** Domains one of our timed-out calls is still stuck on in libvirtd (uuid → a token of that marking). */
  private readonly stuck = new Map<string, object>();
  /** Collections that ended early because of a failure not about one domain. */
  private collectionErrors = 0;
  private lastOutcome = '';
  /** libvirtd's time per domain in the last collection's stats calls (summed over parallel calls). */
  private perDomainMs = 0;
  /** Wall time of the last collection's stats calls when all of them answered. */
  private lastStatsMs = 0;
  /** The uuids libvirtd listed in the last collection, in its order. */
  private lastListed: readonly string[] = [];

  constructor(private readonly options: CollectionOptions) {}

  /** The snapshot of the collection in flight, or of a new one. */
  collect(): Promise<Snapshot> {
    this.inflight ??= this.run().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async run(): Promise<Snapshot> {
    const started = performance.now();
    const deadline = new Deadline(this.options.scrapeTimeoutMs, this.options.callTimeoutMs);
    const state: CollectionState = { answered: false, complete: true, listed: undefined, missing: new Map() };
    let stats: DomainStats | undefined;
    let openstack = new Map<string, NovaInstance>();
    try {
      const client = await this.options.connection.get();
      stats = await this.domainStats(client, deadline, state);
      if (this.options.openstack) openstack = await this.novaMetadata(client, stats.records, deadline, state);
    } catch (err) {
      state.complete = false;
      this.collectionErrors++;
      this.report(state.answered ? 'collection failed' : 'libvirtd unavailable', err);
    }
    if (stats) {
      this.forgetGone(stats.domains);
      for (const domain of stats.domains) if (this.stuck.has(domain.uuid)) state.missing.set(domain.uuid, domain);
      if (state.missing.size > 0) state.complete = false;
      if (state.complete) this.report('ok');
    } else {
      // It may have counted failures of domains it did not get to list: the next collection walks the maps.
      this.lastListed = [];
    }
    // Only what libvirtd told this time: without a listing the domain count is unknown, not 0.
    const listed = stats?.domains ?? state.listed;
    return {
      up: state.answered,
      domainCount: listed?.length,
      domains: (stats?.records ?? []).map((record) => viewOf(record, this.labelsOf(record.domain))),
      statsMissing: stats ? [...state.missing.values()].map((domain) => this.labelsOf(domain)) : [],
      openstack,
      vcpuScheduling: this.options.vcpuScheduling,
      complete: state.complete,
      durationSeconds: (performance.now() - started) / 1000,
      failures: new Map([...this.failures].map(([uuid, f]) => [uuid, { ...f } satisfies DomainFailures])),
      collectionErrors: this.collectionErrors,
    };
  }

  /**
   * Every domain's stats. One bulk call while libvirtd answers it quickly. When the last collection took
   * SPLIT_PER_DOMAIN_MS or more per domain (running QEMU domains: libvirtd queries their monitors one after the
   * other), the listed domains are split across CONCURRENCY calls, which libvirtd serves on as many worker
   * threads. A call that fails, or is late (see groupStats), is joined by one call per domain for its domains.
   * Throws if the connection is lost or libvirtd did not answer.
   */
  private async domainStats(client: LibvirtClient, deadline: Deadline, state: CollectionState): Promise<DomainStats> {
    const started = performance.now();
    const listed = this.perDomainMs >= SPLIT_PER_DOMAIN_MS ? await this.list(client, deadline.signal(), state) : undefined;
    const end = deadline.callEnd();
    const sent = performance.now();
    const hedgeAt = sent + Math.min((end - sent) / 2, Math.max(HEDGE_MIN_MS, HEDGE_FACTOR * this.lastStatsMs));
    // The bulk call's domains are known only from its reply: a fallback lists them, once for all groups.
    let listing: Promise<readonly DomainRef[]> | undefined;
    const membersOf = (group: readonly DomainRef[] | undefined) => (group ? Promise.resolve(group) : (listing ??= this.list(client, signalUntil(end), state)));
    let calls: StatsCall[][] = [[{ domains: undefined, stats: STATS_GROUPS, cpuTimes: false }]];
    let times: Promise<ReadonlyMap<string, CpuTimes>> | undefined;
    if (listed && isQemuDriver(client.uri)) {
      // An inactive domain's id is −1.
      const active = listed.filter((d) => d.id >= 0);
      const running = this.options.vcpuScheduling ? RUNNING_GROUPS_WITH_VCPU : RUNNING_GROUPS;
      calls = qemuCalls(active, listed.filter((d) => d.id < 0), running);
      // Alongside the stats calls, on the fifth of libvirtd's requests per client: each is quick, but a round trip.
      times = this.cpuTimes(client, active, (running & StatsGroup.VCPU) === 0, end, state);
      times.catch(() => undefined); // a lost connection is reported by the stats calls
    } else if (listed) {
      calls = partition(listed, CONCURRENCY).map((domains) => [{ domains, stats: STATS_GROUPS, cpuTimes: false }]);
    }
    const timing = { spentMs: 0, domains: 0 };
    // One pool for every group's per-domain calls: a hung domain holds one lane, the others go on.
    const lanes = new Lanes(CONCURRENCY);
    const results = await Promise.all(
      calls.map(async (sequence) => {
        const records: DomainStatsRecord[] = [];
        for (const call of sequence) records.push(...(await this.groupStats(client, call, membersOf, { hedgeAt, end, lanes, times }, state, timing)));
        return records;
      }),
    );
    if (timing.domains > 0) this.perDomainMs = timing.spentMs / timing.domains;
    if (state.complete) this.lastStatsMs = performance.now() - started;
    const records = results.flat();
    // A bulk call that fell back was replaced by the listing (else the collection has thrown).
    return { domains: listed ?? (state.complete ? records.map((r) => r.domain) : (state.listed ?? [])), records };
  }

  /**
   * The stats of one group (undefined: every domain) with NOWAIT. When the call has not answered by `hedgeAt`,
   * or fails, one call per domain of the group starts alongside, ending at the same deadline; the group call's
   * answer is used if it comes, else theirs. A reply that has begun to arrive is not stuck, only big: it is
   * not hedged, and per-domain calls already started are cancelled and their records dropped, so that a
   * scrape never holds both (on the connection, and in memory) for the same domains.
   */
  private async groupStats(
    client: LibvirtClient,
    { domains: group, stats, cpuTimes }: StatsCall,
    membersOf: (group: readonly DomainRef[] | undefined) => Promise<readonly DomainRef[]>,
    { hedgeAt, end, lanes, times }: { hedgeAt: number; end: number; lanes: Lanes; times: Promise<ReadonlyMap<string, CpuTimes>> | undefined },
    state: CollectionState,
    timing: { spentMs: number; domains: number },
  ): Promise<DomainStatsRecord[]> {
    const sent = performance.now();
    let onAnswering!: () => void;
    const answering = new Promise<void>((resolve) => (onAnswering = resolve));
    // NOWAIT and a domain list: libvirtd skips the listed domains that have gone meanwhile.
    const call = attempt(client.getAllDomainStats({ stats, flags: StatsFlag.NOWAIT, domains: group ?? [], signal: signalUntil(end), onAnswering }));
    const hedge = new AbortController();
    const first = await Promise.race([call, answering.then(() => 'answering' as const), sleep(hedgeAt - performance.now(), hedge.signal).then(() => undefined)]);
    hedge.abort();
    const early = first === 'answering' ? await call : first;
    const answered = async (records: DomainStatsRecord[]): Promise<DomainStatsRecord[]> => {
      state.answered = true;
      timing.spentMs += performance.now() - sent;
      timing.domains += records.length;
      if (!cpuTimes || !times) return records;
      const got = await times;
      return records.map((record) => {
        const domain = got.get(record.domain.uuid);
        return withCpuTimes(record, domain?.totals, domain?.vcpus);
      });
    };
    if (early?.ok) return await answered(early.value);
    if (early?.kind === 'closed') throw early.error;

    const cancel = new AbortController();
    void answering.then(() => cancel.abort());
    const fallback = membersOf(group).then(async (domains) => ({ domains, ...(await this.oneByOne(client, domains, end, lanes, cancel.signal)) }));
    fallback.catch(() => undefined); // it may fail before it is awaited below (or when it is not needed)
    const outcome = early ?? (await call);
    if (outcome.ok || outcome.kind === 'closed') {
      cancel.abort();
      if (outcome.ok) return await answered(outcome.value);
      throw outcome.error;
    }
    if (outcome.kind !== 'timeout') state.answered = true;
    state.complete = false;
    this.report(`domain stats call ${outcome.kind === 'timeout' ? 'timed out' : 'failed'}, fell back to one call per domain`, outcome.error);
    const { domains, records, failed } = await fallback;
    for (const { domain, failure } of failed) this.countFailure(domain, failure, outcome);
    const done = new Set(records.map((r) => r.domain.uuid));
    for (const domain of domains) if (!done.has(domain.uuid)) state.missing.set(domain.uuid, domain);
    return records;
  }

  /**
   * One call per domain (without NOWAIT: a domain whose job is stuck makes its call wait and time out, which is
   * what we count). Once `cancel` fires, no call starts and the records so far are dropped.
   */
  private async oneByOne(
    client: LibvirtClient,
    domains: readonly DomainRef[],
    end: number,
    lanes: Lanes,
    cancel: AbortSignal,
  ): Promise<{ records: DomainStatsRecord[]; failed: { domain: DomainRef; failure: Failure }[] }> {
    const records: DomainStatsRecord[] = [];
    const failed: { domain: DomainRef; failure: Failure }[] = [];
    cancel.addEventListener('abort', () => (records.length = 0), { once: true });
    const open = (): boolean => performance.now() < end && !cancel.aborted;
    // Every call ends at the same deadline or cancel: one signal for all of them.
    const signal = AbortSignal.any([signalUntil(end), cancel]);
    await lanes.forEach(domains, open, async (domain) => {
      const one = await attempt(client.getAllDomainStats({ stats: STATS_GROUPS, domains: [domain], signal }));
      if (one.ok) {
        if (!cancel.aborted) records.push(...one.value);
      } else if (one.kind === 'closed') throw one.error;
      else if (one.kind !== 'cancelled' && one.kind !== 'gone') failed.push({ domain, failure: one });
    });
    return { records, failed };
  }

  /**
   * The running domains' CPU times, and vCPU times `withVcpus` (libvirt/cpu-times.ts), one domain after the
   * other, by uuid. A domain that has stopped or gone meanwhile, or a host without CPU accounting, has none, as
   * the groups would give none; a call that fails otherwise, or a domain the deadline leaves unasked, is
   * counted against the domain, whose stats are then marked missing.
   */
  private async cpuTimes(client: LibvirtClient, domains: readonly DomainRef[], withVcpus: boolean, end: number, state: CollectionState): Promise<ReadonlyMap<string, CpuTimes>> {
    const times = new Map<string, CpuTimes>();
    // Every call ends at the collection's deadline: one signal for all of them.
    const signal = signalUntil(end);
    for (const domain of domains) {
      if (performance.now() >= end) {
        state.complete = false;
        state.missing.set(domain.uuid, domain);
        continue;
      }
      const totals = await attempt(client.domainGetCpuTotals(domain, { signal }));
      const outcomes: Outcome<unknown>[] = [totals];
      let vcpus: Outcome<VcpuInfo[]> | undefined;
      if (withVcpus) {
        vcpus = await attempt(client.domainGetVcpus(domain, VCPUS_FIRST_ASK, { signal }));
        if (vcpus.ok && vcpus.value.length >= VCPUS_FIRST_ASK) vcpus = await attempt(client.domainGetVcpus(domain, Limits.VCPUINFO_MAX, { signal }));
        outcomes.push(vcpus);
      }
      for (const outcome of outcomes) {
        if (outcome.ok || outcome.kind === 'gone' || notRunning(outcome)) continue;
        if (outcome.kind === 'closed') throw outcome.error;
        state.complete = false;
        state.missing.set(domain.uuid, domain);
        this.countFailure(domain, outcome);
      }
      times.set(domain.uuid, { totals: totals.ok ? totals.value : undefined, vcpus: vcpus?.ok ? vcpus.value : undefined });
    }
    return times;
  }

  private async list(client: LibvirtClient, signal: AbortSignal, state: CollectionState): Promise<readonly DomainRef[]> {
    const listed = await attempt(client.listAllDomains(0, { signal }));
    if (!listed.ok) {
      if (listed.kind === 'error' || listed.kind === 'gone') state.answered = true;
      throw listed.error;
    }
    state.answered = true;
    state.listed = listed.value;
    return listed.value;
  }

  /** Nova metadata of the domains that have it, from a cache refreshed per domain id change or TTL. */
  private async novaMetadata(
    client: LibvirtClient,
    records: readonly DomainStatsRecord[],
    deadline: Deadline,
    state: CollectionState,
  ): Promise<Map<string, NovaInstance>> {
    const now = performance.now();
    const result = new Map<string, NovaInstance>();
    const stale: DomainRef[] = [];
    for (const { domain } of records) {
      const entry = this.metadata.get(domain.uuid);
      if (!entry || entry.id !== domain.id || now - entry.fetchedAt >= this.options.metadataTtlMs) stale.push(domain);
      else if (entry.nova) result.set(domain.uuid, entry.nova);
    }
    await new Lanes(CONCURRENCY).forEach(stale, () => !deadline.expired, async (domain) => {
      // Only the XML of a domain with Nova metadata becomes a string; the others' replies are only searched.
      const xml = await attempt(deadline.call((signal) => client.domainGetXmlDescContaining(domain, NOVA_NAMESPACE, 0, { signal })));
      if (!xml.ok) {
        if (xml.kind === 'closed') throw xml.error;
        if (xml.kind !== 'gone') state.complete = false;
        this.countFailure(domain, xml);
        return;
      }
      try {
        this.metadata.set(domain.uuid, { id: domain.id, fetchedAt: performance.now(), nova: xml.value === undefined ? undefined : await readNovaMetadata(xml.value) });
      } catch (err) {
        state.complete = false;
        this.countFailure(domain, { ok: false, kind: 'error', error: err });
      }
    });
    for (const domain of stale) {
      const nova = this.metadata.get(domain.uuid)?.nova;
      if (nova) result.set(domain.uuid, nova);
    }
    return result;
  }

  /**
   * Counts a failed call about one domain. A timed-out stats call also marks the domain stuck until libvirtd is
   * done with it and with `group`, the timed-out call that included the domain (one of them holds its job).
   */
  private countFailure(domain: DomainRef, outcome: Failure, group?: Failure): void {
    if (outcome.kind === 'gone' || outcome.kind === 'cancelled') return;
    let entry = this.failures.get(domain.uuid);
    if (!entry) this.failures.set(domain.uuid, (entry = { domain: domain.name, uuid: domain.uuid, errors: 0, timeouts: 0 }));
    if (outcome.kind === 'timeout') {
      entry.timeouts++;
      if (group) this.markStuck(domain, [outcome, group]);
    } else entry.errors++;
    this.options.log('warn', outcome.kind === 'timeout' ? 'libvirt call timed out' : 'libvirt call failed', {
      domain: domain.name,
      uuid: domain.uuid,
      error: errorText(outcome.error),
    });
  }

  private markStuck(domain: DomainRef, calls: readonly Failure[]): void {
    const token = {};
    this.stuck.set(domain.uuid, token);
    const daemonDone = calls.map((c) => (c.error instanceof CallAbortedError ? c.error.daemonDone : undefined));
    void Promise.all(daemonDone).then(() => {
      if (this.stuck.get(domain.uuid) === token) this.stuck.delete(domain.uuid);
    });
  }

  private labelsOf(domain: DomainRef): DomainLabels {
    let labels = this.labels.get(domain.uuid);
    if (labels?.domain !== domain.name) this.labels.set(domain.uuid, (labels = labelsOf(domain)));
    return labels;
  }

  /**
   * Drops the counters, metadata, labels and marks of domains that no longer exist, so memory follows the domain
   * count. Nothing has gone when libvirtd lists the same domains in the same order as last time, the common case:
   * then the maps are not walked.
   */
  private forgetGone(domains: readonly DomainRef[]): void {
    const last = this.lastListed;
    this.lastListed = domains.map((d) => d.uuid);
    if (last.length === domains.length && domains.every((d, i) => d.uuid === last[i])) return;
    const present = new Set(this.lastListed);
    // forEach, not for-of over keys(): no iterator result per entry, and deleting while iterating is defined.
    for (const byUuid of [this.failures, this.metadata, this.labels, this.stuck] as Map<string, unknown>[]) {
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
    if (error instanceof CallAbortedError) return { ok: false, kind: error.timedOut ? 'timeout' : 'cancelled', error };
    if (error instanceof ConnectionClosedError) return { ok: false, kind: 'closed', error };
    return { ok: false, kind: 'error', error };
  }
}

/**
 * The stats calls of a split collection on the QEMU driver, as sequences one per lane: the running domains get
 * the groups `running` (RUNNING_GROUPS…), their CPU and vCPU times come from the per-domain calls; the inactive
 * ones, which libvirt reports without QEMU (their vCPU count from the definition, by the vcpu group), get
 * STATS_GROUPS in one call ahead of the first lane's.
 */
function qemuCalls(active: readonly DomainRef[], inactive: readonly DomainRef[], running: number): StatsCall[][] {
  const lanes = partition(active, CONCURRENCY).map((domains): StatsCall[] => [{ domains, stats: running, cpuTimes: true }]);
  if (inactive.length > 0) (lanes[0] ??= []).unshift({ domains: inactive, stats: STATS_GROUPS, cpuTimes: false });
  return lanes;
}

/** The URI names libvirt's QEMU driver (RUNNING_GROUPS is about it); a `remote` URI leaves it to the daemon. */
function isQemuDriver(uri: string): boolean {
  return parseUri(uri).openName.startsWith('qemu:');
}

/** libvirt's answer for a domain that is no longer running, or a host without CPU accounting: nothing to report. */
function notRunning(outcome: Failure): boolean {
  return outcome.error instanceof LibvirtError && outcome.error.code === ErrorCode.OPERATION_INVALID;
}

/** `items` in at most `parts` contiguous runs of near-equal length. */
function partition<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

/** At most `size` pieces of work running at once, shared by whoever holds this pool. */
class Lanes {
  private readonly waiting: (() => void)[] = [];
  private free: number;
  constructor(private readonly size: number) {
    this.free = size;
  }

  /**
   * Runs `work` over `items` in order within the pool, starting nothing new once `open()` says no. At most
   * `size` of them wait for a lane at a time: a first scrape reads thousands of domain XMLs, and a promise
   * and a closure per domain made up front would all live until the last one.
   */
  async forEach<T>(items: readonly T[], open: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++]!;
        await this.acquire();
        try {
          if (open()) await work(item);
        } finally {
          this.release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.size, items.length) }, worker));
  }

  private async acquire(): Promise<void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
