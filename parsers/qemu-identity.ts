// The identity of the domain a QEMU log's records belong to. The log names it once per start: the
// command line's `-uuid`. Every record after a command line carries that uuid until the next command
// line (a domain deleted and defined again under the same name starts with a new uuid in the same
// file). The `starting up` header comes right before the command line it announces, so it is held
// until the next record is complete and takes that command line's uuid.

import type { LogRecord } from './record.js';

export class QemuLogIdentity {
  private held: LogRecord | null = null;

  /** `uuid`: what is known before the first record (a checkpoint, a libvirt lookup), or null. */
  constructor(private known: string | null) {}

  /** The uuid of the domain as of the records emitted so far: what a checkpoint keeps. */
  get uuid(): string | null {
    return this.known;
  }

  /** Learnt elsewhere (a libvirt lookup) while the log has not named it. */
  set uuid(uuid: string | null) {
    this.known = uuid;
  }

  /** A `starting up` header waits for its command line. */
  get pending(): boolean {
    return this.held !== null;
  }

  /** Adds `record`, with its uuid, to `out`; a held header goes first. */
  add(record: LogRecord, out: LogRecord[]): void {
    // A command line without `-uuid` (not written by libvirt) names no domain: what came before no longer holds.
    if (record.kind === 'command_line') this.known = record.uuid ?? null;
    this.release(out);
    if (record.kind === 'domain_start') {
      this.held = record;
      return;
    }
    if (this.known !== null) record.uuid = this.known;
    out.push(record);
  }

  /** Emits a held header with the uuid known now (no command line followed it). */
  release(out: LogRecord[]): void {
    if (this.held === null) return;
    if (this.known !== null) this.held.uuid = this.known;
    out.push(this.held);
    this.held = null;
  }
}
