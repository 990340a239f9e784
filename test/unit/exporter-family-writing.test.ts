// The exposition is written family by family straight from the stats columns: each collector indexes where its
// fields are, and each family's samples are made from that index only while the family is written. Its text
// must be byte for byte what the writer before it produced, which kept every sample of a scrape and listed
// the families in the order of their first sample (the build of 9b8db38): the SHA-256 below are that writer's
// output for the same snapshots, in both formats.
import { createHash } from 'node:crypto';
import test from 'ava';
import { renderSnapshot, writeSnapshot } from '../../exporter/collectors/index.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, type ContentType } from '../../exporter/exposition.js';
import type { Snapshot } from '../../exporter/snapshot.js';
import { readDomainStats } from '../../libvirt/domain-stats.js';
import { Limits } from '../../libvirt/protocol.js';
import { XdrReader, XdrWriter } from '../../libvirt/xdr.js';
import { statsReplyBody } from '../harness/fakes/stats-daemon.js';
import { decodedStats, type WireValue } from '../harness/fakes/stats-records.js';
import { varietyRecords } from '../harness/inputs/stats-variety.js';
import { sampleRecords } from '../harness/readers/domstats-text.js';
import { parseExposition } from '../harness/readers/exposition.js';
import { snapshotOf } from '../harness/inputs/exporter-snapshot.js';

/** Every stats capture of a real libvirtd in one scrape. */
function captures(): Snapshot {
  const files = ['domstats-tinylinux.txt', 'domstats-tiny-noos.txt', 'domstats-tinylinux-ioerror-paused.txt', 'domstats-testdriver-head.txt'];
  return snapshotOf(files.flatMap((file) => sampleRecords(file)));
}

/** 400 domains of awkward shapes, Nova metadata on every fifth, and every one of the exporter's own series. */
function variety(): Snapshot {
  const records = decodedStats(varietyRecords(400));
  const openstack = new Map(
    records
      .filter((_, i) => i % 5 === 0)
      .map((r, i) => [r.domain.uuid, { instanceName: `i-${i}`, flavor: 'm1"x', projectId: 'p', projectName: 'pn', userId: 'u', userName: `us\\${i}` }] as const),
  );
  return snapshotOf(records, {
    openstack,
    statsMissing: [Object.freeze({ domain: 'x', uuid: 'y' }), Object.freeze({ domain: 'z"', uuid: 'w' })],
    failures: new Map([['a', { domain: 'a', uuid: 'a', errors: 2, timeouts: 1 }]]),
    rejectedMessages: 3,
    complete: false,
    collectionErrors: 4,
  });
}

/** The scripted big host's reply (QEMU-like domains: 4 vCPUs, 2 disks, 2 NICs, balloon) of 256 KiB. */
function syntheticReply(): Snapshot {
  const w = new XdrWriter(Limits.MESSAGE_MAX);
  statsReplyBody(256 * 1024).write(w);
  return snapshotOf(readDomainStats(new XdrReader(w.finish())));
}

function libvirtdDown(): Snapshot {
  return snapshotOf([], { up: false, domainCount: undefined, complete: false });
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const PINNED: ReadonlyArray<[name: string, snapshot: () => Snapshot, contentType: ContentType, sha256: string]> = [
  ['real captures', captures, PROMETHEUS_TEXT, '3ba9e8b0eb2159bfe2c603633c228cea467b3ad3b80f811a64a2b4b6680c0cbc'],
  ['real captures', captures, OPENMETRICS_TEXT, 'dfd8964f9cccff6d2a2857d9b0344ee05299448bee3b74aa3510e6c2a545c8ae'],
  ['awkward records', variety, PROMETHEUS_TEXT, '7458d369be1aa17627b3ffdcfb87ef6c294234fd2d2ab4e0d38625dfacf25810'],
  ['awkward records', variety, OPENMETRICS_TEXT, 'f294701289211d0d51c189cf07dabe55a88567c4c2b114daa485b1f27020a579'],
  ['a 256 KiB synthetic reply', syntheticReply, PROMETHEUS_TEXT, '626083f029f13f623bbc6a2d72997d51ad87ffba1f51989bb9ca44dfd8e80d30'],
  ['a 256 KiB synthetic reply', syntheticReply, OPENMETRICS_TEXT, '512c3359f3a3df563dafd5a3e4d5c6dd9e1b11528455c487f3018d36c6eccff3'],
  ['libvirtd down', libvirtdDown, PROMETHEUS_TEXT, 'fade16ef0122af05ff8179d17162a6d9d0c9faa6e0f4e2b205332931206ea551'],
  ['libvirtd down', libvirtdDown, OPENMETRICS_TEXT, '221555d935ff14ffefa285cb14c44a0b656cbac98e5fd925f0f2df8b42b2528e'],
];

for (const [name, snapshot, contentType, expected] of PINNED) {
  test(`${name}: the same bytes as the writer that kept every sample (${contentType.split(';')[0]})`, async (t) => {
    t.is(sha256(await renderSnapshot(snapshot(), contentType)), expected);
  });
}

test('families are listed in the order of their first sample, not in the order a collector declares them', async (t) => {
  const records = decodedStats([
    { domain: { name: 'a', uuid: '00000000-0000-4000-8000-00000000000a', id: 1 }, params: new Map<string, WireValue>([['cpu.user', 5n], ['vcpu.0.time', 1n]]) },
    { domain: { name: 'b', uuid: '00000000-0000-4000-8000-00000000000b', id: 2 }, params: new Map<string, WireValue>([['cpu.time', 7n], ['vcpu.current', 1], ['cpu.system', Number.NaN]]) },
    { domain: { name: 'c', uuid: '00000000-0000-4000-8000-00000000000c', id: 3 }, params: new Map<string, WireValue>([['cpu.system', 3n]]) },
  ]);
  const names = [...new Set(parseExposition(await renderSnapshot(snapshotOf(records), PROMETHEUS_TEXT)).map((s) => s.name))];
  const ofDomains = names.filter((n) => n.startsWith('libvirt_domain_') && n !== 'libvirt_domains');
  t.deepEqual(ofDomains, [
    'libvirt_domain_cpu_user_seconds_total',
    'libvirt_domain_cpu_time_seconds_total',
    // b's cpu.system is NaN: no sample, so c's comes first.
    'libvirt_domain_cpu_system_seconds_total',
    'libvirt_domain_vcpu_time_seconds_total',
    'libvirt_domain_info_vcpus',
  ]);
});

test('two scrapes of one snapshot, one of them held back by a slow client, each write the whole exposition', async (t) => {
  const snapshot = syntheticReply();
  const expected = await renderSnapshot(snapshot, PROMETHEUS_TEXT);
  const slow: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The slow writer stops after its first piece until the fast one, and a later scrape, have finished.
  const slowWrite = writeSnapshot(snapshot, PROMETHEUS_TEXT, async (text) => {
    slow.push(text);
    if (slow.length === 1) await held;
  });
  t.is(await renderSnapshot(snapshot, PROMETHEUS_TEXT), expected);
  t.is(await renderSnapshot(syntheticReply(), OPENMETRICS_TEXT), await renderSnapshot(syntheticReply(), OPENMETRICS_TEXT));
  release();
  await slowWrite;
  t.true(slow.length > 2, 'written in several pieces');
  t.is(slow.join(''), expected);
});
