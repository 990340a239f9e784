// A scripted libvirt daemon whose GET_ALL_DOMAIN_STATS reply is built to order: as many QEMU-like domains
// (vCPUs, disks, NICs, balloon) as fit in a given message size, or only a length word announcing more than the
// protocol allows. For what a test-driver libvirtd cannot produce: legal messages of tens of MiB.
import { Limits, Program, RemoteProc, TypedParamType } from '../../../libvirt/protocol.js';
import type { DomainRef } from '../../../libvirt/types.js';
import { readDomain, writeDomain } from '../../../libvirt/structs.js';
import { XdrReader, type XdrWriter } from '../../../libvirt/xdr.js';
import { scriptedDaemon } from './scripted-peer.js';
import { writeStatsRecord, type Param } from './stats-records.js';
import { healthyAnswer, reply } from './server-packets.js';


/** The typed parameters of one running QEMU domain with `vcpus` vCPUs, `disks` disks and `nics` NICs. */
function domainParams(index: number, vcpus: number, disks: number, nics: number): Param[] {
  const id = String(index).padStart(5, '0'); // every record of a reply has the same size
  const p: Param[] = [
    ['state.state', TypedParamType.INT, 1],
    ['state.reason', TypedParamType.INT, 1],
    ['cpu.time', TypedParamType.ULLONG, 123456789000n + BigInt(index)],
    ['cpu.user', TypedParamType.ULLONG, 23456789000n],
    ['cpu.system', TypedParamType.ULLONG, 3456789000n],
  ];
  for (const f of ['current', 'maximum', 'rss', 'available', 'usable', 'unused', 'disk_caches', 'swap_in', 'swap_out', 'major_fault', 'minor_fault', 'last-update']) {
    p.push([`balloon.${f}`, TypedParamType.ULLONG, 1048576n + BigInt(index)]);
  }
  p.push(['vcpu.current', TypedParamType.UINT, vcpus], ['vcpu.maximum', TypedParamType.UINT, vcpus]);
  for (let v = 0; v < vcpus; v++) {
    p.push([`vcpu.${v}.state`, TypedParamType.INT, 1], [`vcpu.${v}.time`, TypedParamType.ULLONG, 5000000000n], [`vcpu.${v}.wait`, TypedParamType.ULLONG, 1000n], [`vcpu.${v}.delay`, TypedParamType.ULLONG, 2000n]);
  }
  p.push(['net.count', TypedParamType.UINT, nics]);
  for (let n = 0; n < nics; n++) {
    p.push([`net.${n}.name`, TypedParamType.STRING, `vnet${id}-${n}`]);
    for (const f of ['rx.bytes', 'rx.pkts', 'rx.errs', 'rx.drop', 'tx.bytes', 'tx.pkts', 'tx.errs', 'tx.drop']) p.push([`net.${n}.${f}`, TypedParamType.ULLONG, 4096n]);
  }
  p.push(['block.count', TypedParamType.UINT, disks]);
  for (let d = 0; d < disks; d++) {
    p.push([`block.${d}.name`, TypedParamType.STRING, `vd${String.fromCharCode(97 + d)}`], [`block.${d}.path`, TypedParamType.STRING, `/var/lib/libvirt/images/guest-${id}-${d}.qcow2`]);
    for (const f of ['rd.reqs', 'rd.bytes', 'rd.times', 'wr.reqs', 'wr.bytes', 'wr.times', 'fl.reqs', 'fl.times', 'allocation', 'capacity', 'physical']) {
      p.push([`block.${d}.${f}`, TypedParamType.ULLONG, 65536n]);
    }
  }
  return p;
}

/** The `i`-th domain of a stats reply: its name, uuid and id, and 4 vCPUs, 2 disks and 2 NICs. */
function statsRecord(i: number): [domain: DomainRef, params: Param[]] {
  const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  return [{ name: `guest-${String(i).padStart(5, '0')}`, uuid, id: i + 1 }, domainParams(i, 4, 2, 2)];
}

/** Domains of a stats reply that fits in `messageBytes` (header + payload): 4 vCPUs, 2 disks, 2 NICs each. */
export function statsReplyBody(messageBytes: number): { domains: number; write: (w: XdrWriter) => void } {
  // The size of one record, measured by encoding it.
  const probe = reply(RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, 1, (w) => {
    w.uint(1);
    writeStatsRecord(w, ...statsRecord(0));
  });
  const perRecord = probe.length - Limits.PACKET_MIN - 4;
  const domains = Math.min(Limits.DOMAIN_LIST_MAX, Math.floor((messageBytes - Limits.HEADER - 4) / perRecord));
  return {
    domains,
    write: (w) => {
      w.uint(domains);
      for (let i = 0; i < domains; i++) writeStatsRecord(w, ...statsRecord(i));
    },
  };
}

/**
 * A daemon that completes the handshake and answers GET_ALL_DOMAIN_STATS with `stats` (a whole packet, or only
 * a length word announcing an oversized one); other calls and keepalive pings get a healthy daemon's answers.
 */
export async function statsDaemon(stats: (serial: number) => Buffer) {
  return scriptedDaemon((h) => {
    if (h.prog === Program.REMOTE && h.proc === RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS) return [stats(h.serial)];
    return healthyAnswer(h);
  });
}

/** A packet of `messageBytes` (header + payload) full of domain stats, as libvirtd would send it. */
export function statsPacket(serial: number, messageBytes: number): { domains: number; packet: Buffer } {
  const { domains, write } = statsReplyBody(messageBytes);
  return { domains, packet: reply(RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, serial, write) };
}

/**
 * A daemon of a host with as many QEMU-like domains as fit in one stats reply of `messageBytes`, answering as
 * libvirtd does: the listing names every domain, GET_ALL_DOMAIN_STATS without a domain list answers with all
 * of them in that one message, and with a list (the exporter's per-domain fallback) with the listed ones only.
 */
export async function bigHostDaemon(messageBytes: number) {
  const { domains, write } = statsReplyBody(messageBytes);
  const all = Array.from({ length: domains }, (_, i) => statsRecord(i)[0]);
  const indexOf = new Map(all.map((d, i) => [d.uuid, i]));
  const whole = reply(RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, 0, write);
  const daemon = await scriptedDaemon((h, body) => {
    if (h.prog !== Program.REMOTE) return healthyAnswer(h); // a keepalive ping, answered as libvirtd does
    if (h.proc === RemoteProc.CONNECT_LIST_ALL_DOMAINS) {
      return [reply(h.proc, h.serial, (w) => {
        w.uint(all.length);
        for (const d of all) writeDomain(w, d);
        w.uint(all.length);
      })];
    }
    if (h.proc !== RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS) return healthyAnswer(h);
    const r = new XdrReader(body);
    const listed = r.array(Limits.DOMAIN_LIST_MAX, 24, readDomain, 'domains');
    if (listed.length === 0) {
      // A header of its own per reply: the socket may still hold `whole` unsent for an earlier call.
      const header = Buffer.from(whole.subarray(0, Limits.PACKET_MIN));
      header.writeUInt32BE(h.serial, Limits.LENGTH_WORD + 16); // the serial: after prog, vers, proc, type
      return [header, whole.subarray(Limits.PACKET_MIN)];
    }
    const indices = listed.flatMap((d) => indexOf.get(d.uuid) ?? []);
    return [reply(h.proc, h.serial, (w) => {
      w.uint(indices.length);
      for (const i of indices) writeStatsRecord(w, ...statsRecord(i));
    })];
  });
  return { domains, messageBytes: whole.length, daemon };
}
