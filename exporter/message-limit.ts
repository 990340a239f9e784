// The exporter's bound on the size of a libvirt message (--libvirt.max-frame). Every connection gets it; a
// message announced larger closes that connection before any memory is taken for it (FrameReader), and is
// counted and logged here. The connection is then re-established as after any loss.
import { PacketTooLargeError } from '../libvirt/errors.js';
import { Limits } from '../libvirt/protocol.js';
import type { Connect } from '../libvirt/types.js';
import type { Logger } from '../runtime/log.js';

export class MessageLimit {
  /** Messages refused so far (libvirt_exporter_rejected_messages_total). */
  rejected = 0;

  constructor(
    /** Largest message accepted: header + payload, without the length word (as libvirt's VIR_NET_MESSAGE_MAX). */
    readonly maxMessageBytes: number,
    private readonly log: Logger,
  ) {}

  /** `connect` with the bound applied, watching each connection it makes for a refused message. */
  apply(connect: Connect): Connect {
    return async (uri, options) => {
      const client = await connect(uri, { ...options, maxPacketBytes: Limits.LENGTH_WORD + this.maxMessageBytes });
      void client.closed.then(({ error }) => {
        if (!(error instanceof PacketTooLargeError)) return;
        this.rejected++;
        this.log('warn', 'libvirt message larger than --libvirt.max-frame refused, connection closed', {
          message_bytes: error.length - Limits.LENGTH_WORD,
          max_frame: this.maxMessageBytes,
        });
      });
      return client;
    };
  }
}
