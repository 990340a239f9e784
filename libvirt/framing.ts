// Packet framing (reference §1.2–1.3, §1.7): a 4-byte big-endian length word that counts itself,
// a 24-byte header, then the XDR payload. The length word is checked against the protocol limit
// the moment its 4 bytes arrive, before any buffer is sized from it; a bad one is a ProtocolError
// after which the stream cannot be resynchronised (there is no start marker), so the caller closes.
import { PacketTooLargeError, ProtocolError } from './errors.js';
import { Limits } from './protocol.js';
import { XdrReader, XdrWriter } from './xdr.js';

export interface Header {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/** One packet: its header and a reader positioned at the payload. */
export interface Packet {
  readonly header: Header;
  readonly body: XdrReader;
}

/** Encodes a whole packet, length word included. */
export function encodePacket(header: Header, writeBody?: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter(Limits.PACKET_MAX, 256);
  w.uint(0); // length, patched below
  w.uint(header.prog).uint(header.vers).int(header.proc).int(header.type).uint(header.serial).int(header.status);
  writeBody?.(w);
  w.patchUint(0, w.length);
  return w.finish();
}

/** Splits a packet (as returned by FrameReader, length word included) into header and payload. */
export function decodePacket(packet: Buffer): Packet {
  if (packet.length < Limits.PACKET_MIN) {
    throw new ProtocolError(`packet of ${packet.length} bytes is shorter than a header`);
  }
  const r = new XdrReader(packet.subarray(Limits.LENGTH_WORD, Limits.PACKET_MIN));
  const header: Header = {
    prog: r.uint(),
    vers: r.uint(),
    proc: r.int(),
    type: r.int(),
    serial: r.uint(),
    status: r.int(),
  };
  return { header, body: new XdrReader(packet.subarray(Limits.PACKET_MIN)) };
}

/** Validates a length word: the total packet size, length word included. */
function checkLengthWord(length: number, maxPacket: number = Limits.PACKET_MAX): void {
  if (length < Limits.PACKET_MIN) {
    throw new ProtocolError(`length word ${length} is below the minimum packet size ${Limits.PACKET_MIN}`);
  }
  if (length > maxPacket) throw new PacketTooLargeError(length, maxPacket);
}

/**
 * Reassembles packets from stream chunks. A packet that a chunk holds whole is handed out as a view of it; a
 * longer one gets one buffer of its checked length, filled as its chunks arrive, so it is held once (not as
 * chunks plus a copy). Memory is bounded by `maxPacket` no matter what the peer announces.
 */
export class FrameReader {
  /** The next length word while it straddles chunks. */
  private readonly word = Buffer.alloc(Limits.LENGTH_WORD);
  private wordFilled = 0;
  /** The packet being assembled, allocated at its checked length. */
  private packet: Buffer | undefined;
  private filled = 0;

  constructor(private readonly maxPacket: number = Limits.PACKET_MAX) {}

  get bufferedBytes(): number {
    return this.packet ? this.filled : this.wordFilled;
  }

  /** The first `bytes` of the packet being assembled, once that many of it have arrived. */
  startOf(bytes: number): Buffer | undefined {
    return this.packet !== undefined && this.filled >= bytes ? this.packet.subarray(0, bytes) : undefined;
  }

  /** Adds a chunk; returns the packets it completed (each including its length word). Throws ProtocolError. */
  push(chunk: Buffer): Buffer[] {
    const packets: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.packet) {
        const n = Math.min(this.packet.length - this.filled, chunk.length - at);
        chunk.copy(this.packet, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === this.packet.length) {
          packets.push(this.packet);
          this.packet = undefined;
        }
        continue;
      }
      if (this.wordFilled === 0 && chunk.length - at >= Limits.LENGTH_WORD) {
        const length = chunk.readUInt32BE(at);
        checkLengthWord(length, this.maxPacket);
        if (chunk.length - at >= length) {
          packets.push(chunk.subarray(at, at + length));
          at += length;
        } else {
          this.startPacket(length);
        }
        continue;
      }
      const n = Math.min(Limits.LENGTH_WORD - this.wordFilled, chunk.length - at);
      chunk.copy(this.word, this.wordFilled, at, at + n);
      this.wordFilled += n;
      at += n;
      if (this.wordFilled < Limits.LENGTH_WORD) continue;
      this.wordFilled = 0;
      const length = this.word.readUInt32BE(0);
      checkLengthWord(length, this.maxPacket);
      this.startPacket(length);
      this.word.copy(this.packet!, 0);
      this.filled = Limits.LENGTH_WORD;
    }
    return packets;
  }

  /** Allocates the packet buffer; the caller's loop copies the bytes in, length word included. */
  private startPacket(length: number): void {
    this.packet = Buffer.allocUnsafe(length);
    this.filled = 0;
  }
}
