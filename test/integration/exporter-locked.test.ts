// A domain whose QEMU is SIGSTOPped (as a hung QEMU or stuck storage looks to libvirt) must not hang the
// scrape: it returns within its deadline with the other domains, and the timeout is counted for that domain.
import test from 'ava';
import { URIS } from '../../scripts/testenv/layout.js';
import { Metrics } from '../../metrics/catalogue.js';
import { defineTinyDomain, qemuPid, testDomainName } from '../helpers/domains.js';
import { startExporter } from '../helpers/exporter.js';
import { select, valueOf } from '../helpers/exposition.js';
import { virsh } from '../helpers/testenv.js';

test('a SIGSTOPped QEMU: the scrape meets its deadline, exports the other domains and counts the timeout', async (t) => {
  const locked = await defineTinyDomain(testDomainName('exp-locked'), { enospcDisk: false, cleanup: t });
  const healthy = await defineTinyDomain(testDomainName('exp-healthy'), { enospcDisk: false, cleanup: t });
  await virsh(['start', locked.name]);
  await virsh(['start', healthy.name]);
  const lockedUuid = (await virsh(['domuuid', locked.name])).trim();
  const healthyUuid = (await virsh(['domuuid', healthy.name])).trim();
  const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp, '--libvirt.timeout', '2s', '--scrape.timeout', '5s']);
  t.teardown(() => exporter.stop());
  t.is(select((await exporter.scrape()).samples, Metrics.vcpuTime.name, { uuid: lockedUuid }).length, 1);

  const qemu = qemuPid(locked.name);
  process.kill(qemu.pid, 'SIGSTOP');
  t.teardown(() => {
    process.kill(qemu.pid, 'SIGCONT');
  });

  const first = await exporter.scrape();
  t.is(first.status, 200);
  t.true(first.ms < 5000 + 1000, `scrape took ${first.ms} ms`);
  t.is(valueOf(first.samples, Metrics.up.name), 1);
  t.is(select(first.samples, Metrics.vcpuTime.name, { uuid: healthyUuid }).length, 1, 'the healthy domain is exported');
  t.is(valueOf(first.samples, Metrics.domainTimeouts.name, { uuid: lockedUuid }), 1);
  t.is(valueOf(first.samples, Metrics.lastScrapeSuccess.name), 0);

  // Later scrapes are fast: the stalled call holds the locked domain's job, so NOWAIT skips its monitor.
  const second = await exporter.scrape();
  t.true(second.ms < 2000, `second scrape took ${second.ms} ms`);
  t.is(select(second.samples, Metrics.vcpuTime.name, { uuid: healthyUuid }).length, 1);
  t.deepEqual(select(second.samples, Metrics.state.name, { uuid: lockedUuid }).map((x) => x.labels.state), ['running']);

  process.kill(qemu.pid, 'SIGCONT');
  let third = await exporter.scrape();
  for (let i = 0; i < 20 && select(third.samples, Metrics.blockReadBytes.name, { uuid: lockedUuid }).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    third = await exporter.scrape();
  }
  t.is(select(third.samples, Metrics.blockReadBytes.name, { uuid: lockedUuid }).length, 1, 'full stats once QEMU runs again');
  t.is(valueOf(third.samples, Metrics.domainTimeouts.name, { uuid: lockedUuid }), 1);
});
