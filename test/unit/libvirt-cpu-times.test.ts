// DOMAIN_GET_CPU_STATS and DOMAIN_GET_VCPUS on the wire (replies captured from libvirtd 9.0 for a running TCG
// domain), and their times added to a stats record under the cpu-total and vcpu groups' names (libvirt/cpu-times.ts).
import test from 'ava';
import { Calls } from '../../libvirt/calls.js';
import { withCpuTimes } from '../../libvirt/cpu-times.js';
import { StatsFields, paramsOf, readDomainStats } from '../../libvirt/domain-stats.js';
import { ProtocolError } from '../../libvirt/errors.js';
import { decodePacket } from '../../libvirt/framing.js';
import { Limits, MessageStatus, RemoteProc, TypedParamType } from '../../libvirt/protocol.js';
import type { DomainRef } from '../../libvirt/types.js';
import { XdrReader, XdrWriter } from '../../libvirt/xdr.js';
import { writeStatsRecord } from '../harness/fakes/stats-records.js';
import { encodeCall } from '../harness/fakes/call-packets.js';
import { hex } from '../harness/hex.js';

const DOMAIN: DomainRef = { name: 'lt-probe-tcg-64a82a', uuid: 'bc24a5ef-81d6-4a7c-a1cb-b7775a03e87d', id: 1 };
/** remote_nonnull_domain of DOMAIN: name (19 bytes + 1 pad), uuid, id. */
const DOMAIN_BYTES = `00 00 00 13 | 6c 74 2d 70 72 6f 62 65 2d 74 63 67 2d 36 34 61 38 32 61 00 |
  bc 24 a5 ef 81 d6 4a 7c a1 cb b7 77 5a 03 e8 7d | 00 00 00 01`;


test('DOMAIN_GET_CPU_STATS asks for the whole domain (start_cpu −1, one "CPU", 3 parameters); the reply of libvirtd 9.0 decodes', (t) => {
  const spec = Calls.domainGetCpuTotals;
  t.is(spec.proc, RemoteProc.DOMAIN_GET_CPU_STATS);
  t.deepEqual(
    encodeCall(spec, 6, DOMAIN),
    hex(`00 00 00 58 | 20 00 80 86 | 00 00 00 01 | 00 00 01 06 | 00 00 00 00 | 00 00 00 06 | 00 00 00 00 | ${DOMAIN_BYTES} |
      00 00 00 03 | ff ff ff ff | 00 00 00 01 | 00 00 00 00`),
  );
  const { header, body } = decodePacket(hex(`
    00 00 00 74 | 20 00 80 86 | 00 00 00 01 | 00 00 01 06 | 00 00 00 01 | 00 00 00 04 | 00 00 00 00 |
    00 00 00 03 |
    00 00 00 08 63 70 75 5f 74 69 6d 65 | 00 00 00 04 | 00 00 00 03 58 9b 17 88 |
    00 00 00 09 75 73 65 72 5f 74 69 6d 65 00 00 00 | 00 00 00 04 | 00 00 00 02 b0 03 78 40 |
    00 00 00 0b 73 79 73 74 65 6d 5f 74 69 6d 65 00 | 00 00 00 04 | 00 00 00 00 a8 97 9f 48 |
    00 00 00 03`));
  t.is(header.status, MessageStatus.OK);
  t.deepEqual(spec.decode(body), { cpuTimeNs: 14371461000, userTimeNs: 11542952000, systemTimeNs: 2828509000 });
});

test('DOMAIN_GET_CPU_STATS: parameters of other names or types are skipped, missing ones stay absent, an unknown type is refused', (t) => {
  const reply = (params: (w: XdrWriter) => void, count: number): XdrReader => {
    const w = new XdrWriter(Limits.MESSAGE_MAX);
    w.uint(count);
    params(w);
    w.int(count);
    return new XdrReader(w.finish());
  };
  const decoded = Calls.domainGetCpuTotals.decode(reply((w) => {
    w.string('vcpu_time', 79).int(TypedParamType.ULLONG).uhyper(5n);
    w.string('cpu_time', 79).int(TypedParamType.ULLONG).uhyper(2n ** 53n + 2n);
    w.string('user_time', 79).int(TypedParamType.STRING).string('n/a', 100);
    w.string('flag', 79).int(TypedParamType.BOOLEAN).int(1);
  }, 4));
  t.deepEqual(decoded, { cpuTimeNs: 2 ** 53 + 2 });
  t.throws(() => Calls.domainGetCpuTotals.decode(reply((w) => w.string('cpu_time', 79).int(8).uhyper(1n), 1)), {
    instanceOf: ProtocolError,
    message: /typed param 'cpu_time': unknown type 8/,
  });
  t.throws(() => Calls.domainGetCpuTotals.decode(reply(() => undefined, Limits.CPU_STATS_PARAMS_MAX + 1)), { instanceOf: ProtocolError, message: /exceeds the protocol maximum/ });
  const truncated = hex('00 00 00 01 | 00 00 00 08 63 70 75 5f 74 69 6d 65 | 00 00 00 04 | 00 00 00 03');
  t.throws(() => Calls.domainGetCpuTotals.decode(new XdrReader(truncated)), { instanceOf: ProtocolError });
});

test('DOMAIN_GET_VCPUS asks for maxinfo entries and no CPU maps; the reply of libvirtd 9.0 decodes', (t) => {
  const spec = Calls.domainGetVcpus;
  t.is(spec.proc, RemoteProc.DOMAIN_GET_VCPUS);
  t.deepEqual(
    encodeCall(spec, 7, { domain: DOMAIN, maxInfo: 256 }),
    hex(`00 00 00 50 | 20 00 80 86 | 00 00 00 01 | 00 00 00 14 | 00 00 00 00 | 00 00 00 07 | 00 00 00 00 | ${DOMAIN_BYTES} |
      00 00 01 00 | 00 00 00 00`),
  );
  const { body } = decodePacket(hex(`
    00 00 00 38 | 20 00 80 86 | 00 00 00 01 | 00 00 00 14 | 00 00 00 01 | 00 00 00 05 | 00 00 00 00 |
    00 00 00 01 | 00 00 00 00 | 00 00 00 01 | 00 00 00 02 21 61 eb 80 | 00 00 00 01 |
    00 00 00 00`));
  t.deepEqual(spec.decode(body), [{ number: 0, state: 1, cpuTimeNs: 9150000000, cpu: 1 }]);
});

test('DOMAIN_GET_VCPUS: CPU maps are read past, counts beyond the protocol or the reply are refused before allocating', (t) => {
  const withMaps = hex(`00 00 00 02 |
    00 00 00 00 | 00 00 00 01 | 00 00 00 00 00 00 00 0a | 00 00 00 00 |
    00 00 00 03 | 00 00 00 02 | 00 00 00 00 00 00 00 0b | ff ff ff ff |
    00 00 00 02 | 03 01 00 00`);
  t.deepEqual(Calls.domainGetVcpus.decode(new XdrReader(withMaps)), [
    { number: 0, state: 1, cpuTimeNs: 10, cpu: 0 },
    { number: 3, state: 2, cpuTimeNs: 11, cpu: -1 },
  ]);
  t.throws(() => Calls.domainGetVcpus.decode(new XdrReader(hex('00 00 40 01'))), { instanceOf: ProtocolError, message: /exceeds the protocol maximum 16384/ });
  t.throws(() => Calls.domainGetVcpus.decode(new XdrReader(hex('00 00 00 02 | 00 00 00 00 00 00 00 01'))), { instanceOf: ProtocolError, message: /cannot fit/ });
  t.throws(() => Calls.domainGetVcpus.decode(new XdrReader(hex('00 00 00 00 | 00 80 00 01'))), { instanceOf: ProtocolError, message: /exceeds the protocol maximum/ });
});

/** A stats reply of RUNNING_GROUPS' kind for DOMAIN: state, a balloon figure, a block device with its name. */
function runningRecord() {
  const w = new XdrWriter(Limits.MESSAGE_MAX);
  w.uint(1);
  writeStatsRecord(w, DOMAIN, [
    ['state.state', TypedParamType.INT, 1],
    ['balloon.rss', TypedParamType.ULLONG, 45616n],
    ['block.count', TypedParamType.UINT, 1],
    ['block.0.name', TypedParamType.STRING, 'vda'],
    ['block.0.rd.bytes', TypedParamType.ULLONG, 512n],
  ]);
  const r = new XdrReader(w.finish());
  return readDomainStats(r)[0]!;
}

test('withCpuTimes: the record keeps its parameters, strings included, and gains cpu.* and vcpu.* as the groups name them', (t) => {
  const record = runningRecord();
  const vcpus = [
    { number: 0, state: 1, cpuTimeNs: 9150000000, cpu: 1 },
    { number: 2, state: 2, cpuTimeNs: 17, cpu: 0 },
  ];
  const joined = withCpuTimes(record, { cpuTimeNs: 14371461000, userTimeNs: 11542952000, systemTimeNs: 2828509000 }, vcpus);
  t.is(joined.domain, record.domain);
  t.deepEqual([...paramsOf(joined)], [
    ['state.state', 1],
    ['balloon.rss', 45616],
    ['block.count', 1],
    ['block.0.name', 'vda'],
    ['block.0.rd.bytes', 512],
    ['cpu.time', 14371461000],
    ['cpu.user', 11542952000],
    ['cpu.system', 2828509000],
    ['vcpu.current', 2],
    ['vcpu.0.state', 1],
    ['vcpu.0.time', 9150000000],
    ['vcpu.2.state', 2],
    ['vcpu.2.time', 17],
  ]);
  // The collectors' readers find them as they find the groups' parameters.
  const perVcpu = new StatsFields('vcpu', ['time']);
  t.is(perVcpu.read(joined), 2);
  t.deepEqual([perVcpu.index(0), perVcpu.number(0, 0), perVcpu.index(1), perVcpu.number(1, 0)], [0, 9150000000, 2, 17]);
  const block = new StatsFields('block', ['name', 'rd.bytes']);
  t.is(block.read(joined), 1);
  t.deepEqual([block.text(0, 0), block.number(0, 1)], ['vda', 512]);
  // The original record is untouched.
  t.deepEqual([...paramsOf(record)].map(([name]) => name), ['state.state', 'balloon.rss', 'block.count', 'block.0.name', 'block.0.rd.bytes']);
});

test('withCpuTimes: a failed call adds nothing of its own; nothing to add gives the record itself', (t) => {
  const record = runningRecord();
  t.is(withCpuTimes(record, undefined, undefined), record);
  t.is(withCpuTimes(record, {}, undefined), record);
  t.deepEqual([...paramsOf(withCpuTimes(record, { cpuTimeNs: 5 }, undefined))].slice(-2), [['block.0.rd.bytes', 512], ['cpu.time', 5]]);
  t.deepEqual([...paramsOf(withCpuTimes(record, undefined, []))].slice(-1), [['vcpu.current', 0]]);
});
