// Packets as our client writes them: a call of a typed procedure (libvirt/calls.ts), for tests that compare
// its bytes with the reference's or with a capture of libvirtd's traffic.
import { encodePacket } from '../../../libvirt/framing.js';
import { MessageStatus, MessageType, PROGRAM_VERSION, Program } from '../../../libvirt/protocol.js';
import type { CallSpec } from '../../../libvirt/rpc.js';

/** The CALL packet of `spec` with `args` under `serial`. */
export function encodeCall<A, R>(spec: CallSpec<A, R>, serial: number, args: A): Buffer {
  const header = { prog: Program.REMOTE, vers: PROGRAM_VERSION, proc: spec.proc, type: MessageType.CALL, serial, status: MessageStatus.OK };
  return encodePacket(header, spec.encode && ((w) => spec.encode!(w, args)));
}
