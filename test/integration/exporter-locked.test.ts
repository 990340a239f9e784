// A domain whose QEMU is SIGSTOPped (as a hung QEMU or stuck storage looks to libvirt), at the exporter's default
// flags: the scrape costs at most one call deadline, exports the other domains, counts the timeout against the
// stuck domain and marks its stats missing for as long as libvirtd is stuck on it.
import test from 'ava';
import { URIS } from '../env/layout.js';
import { Metrics } from '../../exporter/catalogue.js';
import { defineTinyDomain, qemuPid, removeDomain, testDomainName, type TinyDomain } from '../harness/env/domains.js';
import { startExporter, type RunningExporter, type Scrape } from '../harness/roles/exporter.js';
import { select, valueOf } from '../harness/readers/exposition.js';
import { virsh } from '../harness/env/testenv.js';

/** --libvirt.timeout's default. */
const CALL_DEADLINE_MS = 5000;
/** --scrape.timeout's default: a scrape held up by the stuck domain for the whole collection would take this long. */
const SCRAPE_DEADLINE_MS = 9000;
const domains: { locked?: TinyDomain; healthy?: TinyDomain; lockedUuid: string; healthyUuid: string } = { lockedUuid: '', healthyUuid: '' };

test.before(async () => {
  domains.locked = await defineTinyDomain(testDomainName('exp-locked'), { enospcDisk: false });
  domains.healthy = await defineTinyDomain(testDomainName('exp-healthy'), { enospcDisk: false });
  await virsh(['start', domains.locked.name]);
  await virsh(['start', domains.healthy.name]);
  domains.lockedUuid = (await virsh(['domuuid', domains.locked.name])).trim();
  domains.healthyUuid = (await virsh(['domuuid', domains.healthy.name])).trim();
});

test.after.always(async () => {
  for (const domain of [domains.locked, domains.healthy]) if (domain) await removeDomain(domain);
});

/** SIGSTOPs the locked domain's QEMU until the returned function (also run at teardown) continues it. */
function freeze(t: { teardown(fn: () => void): void }): () => void {
  const qemu = qemuPid(domains.locked!.name);
  process.kill(qemu.pid, 'SIGSTOP');
  let frozen = true;
  const thaw = (): void => {
    if (frozen) process.kill(qemu.pid, 'SIGCONT');
    frozen = false;
  };
  t.teardown(thaw);
  return thaw;
}

function assertStuckScrape(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void }, scrape: Scrape): void {
  const { lockedUuid, healthyUuid } = domains;
  t.is(scrape.status, 200);
  // docs/exporter.md: a hung domain costs the scrape at most one --libvirt.timeout. The margin for a loaded
  // machine stays below the collection's own deadline, which a scrape that waited on the domain would reach.
  t.true(scrape.ms < SCRAPE_DEADLINE_MS - 500, `the stuck domain cost the scrape at most one call deadline: ${scrape.ms} ms`);
  t.is(valueOf(scrape.samples, Metrics.up.name), 1);
  t.true(valueOf(scrape.samples, Metrics.domains.name) >= 2, 'the domain count includes the stuck domain');
  t.is(select(scrape.samples, Metrics.vcpuTime.name, { uuid: healthyUuid }).length, 1, 'the healthy domain is exported in the same scrape');
  t.is(select(scrape.samples, Metrics.blockReadBytes.name, { uuid: healthyUuid }).length, 1, 'with its monitor stats');
  t.is(valueOf(scrape.samples, Metrics.domainTimeouts.name, { uuid: lockedUuid }), 1, 'the timeout is counted against the stuck domain');
  t.is(valueOf(scrape.samples, Metrics.domainStatsMissing.name, { uuid: lockedUuid }), 1, 'the stuck domain is marked');
  t.is(select(scrape.samples, Metrics.domainStatsMissing.name, { uuid: healthyUuid }).length, 0, 'the healthy one is not');
  t.is(valueOf(scrape.samples, Metrics.lastScrapeSuccess.name), 0);
}

/**
 * Scrapes until the thawed domain has its monitor stats again and is no longer marked (at most ~10 s). The two
 * need not turn in the same scrape: NOWAIT stats can be back a moment before libvirtd reports the stalled
 * calls done, which is what clears the mark.
 */
async function waitUntilRecovered(exporter: RunningExporter): Promise<Scrape> {
  const recovered = (scrape: Scrape) =>
    select(scrape.samples, Metrics.blockReadBytes.name, { uuid: domains.lockedUuid }).length === 1 &&
    select(scrape.samples, Metrics.domainStatsMissing.name).length === 0;
  let scrape = await exporter.scrape();
  for (let i = 0; i < 40 && !recovered(scrape); i++) {
    await new Promise((r) => setTimeout(r, 250));
    scrape = await exporter.scrape();
  }
  return scrape;
}

test.serial('default flags, a running exporter: the stuck domain costs one call deadline, the other is exported, the stuck one counted and marked until QEMU runs again', async (t) => {
  const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
  t.teardown(() => exporter.stop());
  await exporter.scrape();
  t.is(select((await exporter.scrape()).samples, Metrics.blockReadBytes.name, { uuid: domains.lockedUuid }).length, 1);

  const thaw = freeze(t);
  assertStuckScrape(t, await exporter.scrape());

  // Later scrapes need no fallback (the stalled call holds the domain's job, so NOWAIT skips its monitor), but
  // the domain's monitor stats are missing and it stays marked.
  const second = await exporter.scrape();
  // "later scrapes are fast again" (docs/exporter.md): they do not wait for a call deadline on the stuck domain.
  t.true(second.ms < CALL_DEADLINE_MS, `second scrape took ${second.ms} ms`);
  t.is(valueOf(second.samples, Metrics.domainStatsMissing.name, { uuid: domains.lockedUuid }), 1);
  t.is(valueOf(second.samples, Metrics.domainTimeouts.name, { uuid: domains.lockedUuid }), 1);
  t.is(select(second.samples, Metrics.vcpuTime.name, { uuid: domains.healthyUuid }).length, 1);
  t.deepEqual(select(second.samples, Metrics.state.name, { uuid: domains.lockedUuid }).map((x) => x.labels.state), ['running']);
  t.is(valueOf(second.samples, Metrics.lastScrapeSuccess.name), 0);

  thaw();
  const recovered = await waitUntilRecovered(exporter);
  t.is(select(recovered.samples, Metrics.blockReadBytes.name, { uuid: domains.lockedUuid }).length, 1, 'full stats once QEMU runs again');
  t.is(select(recovered.samples, Metrics.domainStatsMissing.name).length, 0, 'no longer marked');
  t.is(valueOf(recovered.samples, Metrics.domainTimeouts.name, { uuid: domains.lockedUuid }), 1);
  t.is(valueOf(recovered.samples, Metrics.lastScrapeSuccess.name), 1);
});

test.serial('default flags, an exporter whose first scrape meets the stuck domain (one bulk call): the same', async (t) => {
  const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
  t.teardown(() => exporter.stop());
  const thaw = freeze(t);
  assertStuckScrape(t, await exporter.scrape());
  thaw();
  const recovered = await waitUntilRecovered(exporter);
  t.is(select(recovered.samples, Metrics.domainStatsMissing.name).length, 0);
});
