// What an incoming packet is, decided by program and message type, never by serial alone (reference §8.1).
// Pure: the client acts on the result; anything a daemon must not send is a ProtocolError.
import type { CallSpec } from './calls.js';
import { decodeDomainEvent, isDomainEventProc } from './domain-events.js';
import type { LibvirtError } from './errors.js';
import { ProtocolError } from './errors.js';
import { decodePacket } from './framing.js';
import { KeepaliveProc, MessageStatus, MessageType, PROGRAM_VERSION, Program } from './protocol.js';
import { readRemoteError } from './structs.js';
import type { DomainEvent } from './types.js';
import type { XdrReader } from './xdr.js';

export type Incoming =
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'reply'; readonly proc: number; readonly serial: number; readonly status: number; readonly body: XdrReader }
  | { readonly kind: 'event'; readonly event: DomainEvent };

/** Classifies one packet (length word included) from the daemon; decodes events completely. */
export function classifyPacket(packet: Buffer): Incoming {
  const { header, body } = decodePacket(packet);
  const { prog, vers, proc, type, serial, status } = header;
  if (vers !== PROGRAM_VERSION) throw new ProtocolError(`program 0x${prog.toString(16)} version ${vers} is not ${PROGRAM_VERSION}`);
  if (prog === Program.KEEPALIVE) {
    if (type !== MessageType.MESSAGE) throw new ProtocolError(`keepalive packet of message type ${type}`);
    if (proc === KeepaliveProc.PING) return { kind: 'ping' };
    if (proc === KeepaliveProc.PONG) return { kind: 'pong' };
    throw new ProtocolError(`unknown keepalive procedure ${proc}`);
  }
  if (prog !== Program.REMOTE) throw new ProtocolError(`packet for unexpected program 0x${prog.toString(16)}`);
  switch (type) {
    case MessageType.REPLY:
      if (status !== MessageStatus.OK && status !== MessageStatus.ERROR) {
        throw new ProtocolError(`reply ${serial} with status ${status}`);
      }
      return { kind: 'reply', proc, serial, status, body };
    case MessageType.MESSAGE:
      if (status !== MessageStatus.OK) throw new ProtocolError(`event message ${proc} with status ${status}`);
      if (!isDomainEventProc(proc)) throw new ProtocolError(`event message ${proc} is not one this client registers`);
      return { kind: 'event', event: decodeDomainEvent(proc, body) };
    default:
      // This client opens no streams and passes no FDs, and a daemon never calls its client.
      throw new ProtocolError(`unexpected message type ${type} (proc ${proc}, serial ${serial})`);
  }
}

/** Decodes a reply body: the call's result, or the daemon's remote_error. */
export function decodeReply<R>(
  spec: CallSpec<unknown, R>,
  status: number,
  body: XdrReader,
): { ok: true; value: R } | { ok: false; error: LibvirtError } {
  return status === MessageStatus.OK ? { ok: true, value: spec.decode(body) } : { ok: false, error: readRemoteError(body) };
}
