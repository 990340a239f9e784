// Packets as a libvirt daemon writes them, built with our XDR writer: the valid corpus that the fuzz
// test mutates and the client tests replay.
import { encodePacket, type Header } from '../../../libvirt/framing.js';
import { EventProc, KeepaliveProc, Limits, MessageStatus, MessageType, PROGRAM_VERSION, Program, RemoteProc, TypedParamType } from '../../../libvirt/protocol.js';
import { writeDomain } from '../../../libvirt/structs.js';
import type { DomainRef } from '../../../libvirt/types.js';
import type { XdrWriter } from '../../../libvirt/xdr.js';

export const VM1: DomainRef = { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 };
export const VM2: DomainRef = { name: 'a-much-longer-domain-name', uuid: '00000000-0000-0000-0000-0000000000ff', id: -1 };

export function reply(proc: number, serial: number, body?: (w: XdrWriter) => void): Buffer {
  return encodePacket({ prog: Program.REMOTE, vers: PROGRAM_VERSION, proc, type: MessageType.REPLY, serial, status: MessageStatus.OK }, body);
}

export function errorReply(proc: number, serial: number, code: number, message: string): Buffer {
  return encodePacket({ prog: Program.REMOTE, vers: PROGRAM_VERSION, proc, type: MessageType.REPLY, serial, status: MessageStatus.ERROR }, (w) => {
    w.int(code).int(10);
    w.optional(message, (x, m) => x.string(m, Limits.STRING_MAX));
    w.int(2);
    w.bool(false);
    w.optional('generic', (x, m) => x.string(m, Limits.STRING_MAX));
    w.optional(message, (x, m) => x.string(m, Limits.STRING_MAX));
    w.bool(false);
    w.int(-1).int(-1);
    w.bool(false);
  });
}

export function event(proc: number, body: (w: XdrWriter) => void): Buffer {
  return encodePacket({ prog: Program.REMOTE, vers: PROGRAM_VERSION, proc, type: MessageType.MESSAGE, serial: 1, status: MessageStatus.OK }, body);
}

export const ping = (): Buffer =>
  encodePacket({ prog: Program.KEEPALIVE, vers: PROGRAM_VERSION, proc: KeepaliveProc.PING, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK });

export const pong = (): Buffer =>
  encodePacket({ prog: Program.KEEPALIVE, vers: PROGRAM_VERSION, proc: KeepaliveProc.PONG, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK });

const str = (w: XdrWriter, s: string): void => void w.string(s, Limits.STRING_MAX);

export function writeParams(w: XdrWriter): void {
  const params: [string, number, (x: XdrWriter) => void][] = [
    ['state.state', TypedParamType.INT, (x) => x.int(1)],
    ['net.count', TypedParamType.UINT, (x) => x.uint(1)],
    ['x.llong', TypedParamType.LLONG, (x) => x.hyper(-5n)],
    ['cpu.time', TypedParamType.ULLONG, (x) => x.uhyper(123456789000n)],
    ['x.double', TypedParamType.DOUBLE, (x) => x.double(0.25)],
    ['vcpu.0.halted', TypedParamType.BOOLEAN, (x) => x.int(1)],
    ['net.0.name', TypedParamType.STRING, (x) => str(x, 'vnet0')],
  ];
  w.uint(params.length);
  for (const [name, type, value] of params) {
    str(w, name);
    w.int(type);
    value(w);
  }
}

/** One valid reply per procedure the client calls, keyed by procedure. */
export function validReplies(serial: number): Map<number, Buffer> {
  return new Map<number, Buffer>([
    [RemoteProc.CONNECT_OPEN, reply(RemoteProc.CONNECT_OPEN, serial)],
    [RemoteProc.AUTH_LIST, reply(RemoteProc.AUTH_LIST, serial, (w) => w.uint(1).int(0))],
    [RemoteProc.CONNECT_SUPPORTS_FEATURE, reply(RemoteProc.CONNECT_SUPPORTS_FEATURE, serial, (w) => w.int(1))],
    [RemoteProc.CONNECT_GET_LIB_VERSION, reply(RemoteProc.CONNECT_GET_LIB_VERSION, serial, (w) => w.uhyper(9000000n))],
    [RemoteProc.CONNECT_GET_HOSTNAME, reply(RemoteProc.CONNECT_GET_HOSTNAME, serial, (w) => str(w, 'node-1'))],
    [RemoteProc.CONNECT_LIST_ALL_DOMAINS, reply(RemoteProc.CONNECT_LIST_ALL_DOMAINS, serial, (w) => {
      w.uint(2);
      writeDomain(w, VM1);
      writeDomain(w, VM2);
      w.uint(2);
    })],
    [RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, reply(RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, serial, (w) => {
      w.uint(2);
      writeDomain(w, VM1);
      writeParams(w);
      writeDomain(w, VM2);
      writeParams(w);
    })],
    [RemoteProc.DOMAIN_GET_INFO, reply(RemoteProc.DOMAIN_GET_INFO, serial, (w) => w.uint(1).uhyper(131072n).uhyper(131072n).uint(1).uhyper(8001925000n))],
    [RemoteProc.DOMAIN_GET_STATE, reply(RemoteProc.DOMAIN_GET_STATE, serial, (w) => w.int(3).int(1))],
    [RemoteProc.DOMAIN_GET_CPU_STATS, reply(RemoteProc.DOMAIN_GET_CPU_STATS, serial, (w) => {
      w.uint(3);
      for (const [name, ns] of [['cpu_time', 8001925000n], ['user_time', 6000000000n], ['system_time', 2000000000n]] as const) {
        str(w, name);
        w.int(TypedParamType.ULLONG).uhyper(ns);
      }
      w.int(3);
    })],
    [RemoteProc.DOMAIN_GET_VCPUS, reply(RemoteProc.DOMAIN_GET_VCPUS, serial, (w) => {
      w.uint(1);
      w.uint(0).int(1).uhyper(7000000000n).int(0); // vCPU 0, running, its thread's CPU time, on host CPU 0
      w.uint(0); // no CPU maps
    })],
    [RemoteProc.DOMAIN_GET_XML_DESC, reply(RemoteProc.DOMAIN_GET_XML_DESC, serial, (w) => str(w, "<domain type='qemu'/>"))],
    [RemoteProc.DOMAIN_LOOKUP_BY_UUID, reply(RemoteProc.DOMAIN_LOOKUP_BY_UUID, serial, (w) => writeDomain(w, VM1))],
    [RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, reply(RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, serial, (w) => w.int(7))],
  ]);
}

/**
 * What a healthy libvirtd answers to `header`: a PONG to a PING, the procedure's valid reply to a call (offering
 * keepalive unless `keepalive` is false), nothing otherwise.
 */
export function healthyAnswer(header: Header, { keepalive = true }: { keepalive?: boolean } = {}): Buffer[] {
  if (header.prog === Program.KEEPALIVE) return header.proc === KeepaliveProc.PING ? [pong()] : [];
  if (header.proc === RemoteProc.CONNECT_SUPPORTS_FEATURE) return [reply(header.proc, header.serial, (w) => w.int(keepalive ? 1 : 0))];
  const answer = validReplies(header.serial).get(header.proc) ?? reply(header.proc, header.serial);
  return [answer];
}

/** One valid message per event kind the client decodes. */
export function validEvents(): Buffer[] {
  const head = (w: XdrWriter): void => {
    w.int(7);
    writeDomain(w, VM1);
  };
  return [
    event(EventProc.LIFECYCLE, (w) => { head(w); w.int(5).int(5); }),
    event(EventProc.REBOOT, head),
    event(EventProc.WATCHDOG, (w) => { head(w); w.int(2); }),
    event(EventProc.IO_ERROR, (w) => { head(w); str(w, '/var/lib/vdb.raw'); str(w, 'virtio-disk1'); w.int(1); }),
    event(EventProc.IO_ERROR_REASON, (w) => { head(w); str(w, '/var/lib/vdb.raw'); str(w, 'virtio-disk1'); w.int(1); str(w, 'enospc'); }),
    event(EventProc.CONTROL_ERROR, head),
    event(EventProc.BLOCK_JOB, (w) => { head(w); str(w, '/var/lib/vda.qcow2'); w.int(2).int(3); }),
    event(EventProc.BLOCK_JOB_2, (w) => { head(w); str(w, 'vda'); w.int(1).int(0); }),
  ];
}
