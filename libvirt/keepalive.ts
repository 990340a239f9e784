// Our side of libvirt's keepalive (reference §4): a ping after `intervalMs` of silence from the daemon, the
// connection given up when pings stay unanswered for `count` intervals. Any packet from the daemon is an
// answer (rpc.ts calls heard() for every chunk), so a daemon busy sending a long reply is never taken for dead.
import type { KeepaliveOptions } from './types.js';

export class Keepalive {
  private timer: NodeJS.Timeout | undefined;
  private lastHeardAt = performance.now();
  private lastPingAt = 0;
  private firstUnansweredPingAt: number | undefined;

  heard(): void {
    this.lastHeardAt = performance.now();
    this.firstUnansweredPingAt = undefined;
  }

  /** How long the oldest unanswered ping has waited; 0 when none is outstanding. */
  get unansweredPingMs(): number {
    return this.firstUnansweredPingAt === undefined ? 0 : performance.now() - this.firstUnansweredPingAt;
  }

  /** Starts pinging (once; later calls are ignored); `dead` is called once the daemon is given up. */
  start({ intervalMs, count }: KeepaliveOptions, ping: () => void, dead: (error: Error) => void): void {
    if (this.timer) return;
    this.lastHeardAt = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      if (now - this.lastHeardAt < intervalMs || now - this.lastPingAt < intervalMs) return;
      if (this.firstUnansweredPingAt !== undefined && now - this.firstUnansweredPingAt >= count * intervalMs) {
        this.stop();
        dead(new Error(`no answer to ${count} keepalive pings ${intervalMs} ms apart`));
        return;
      }
      this.firstUnansweredPingAt ??= now;
      this.lastPingAt = now;
      ping();
    }, Math.max(10, Math.floor(intervalMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
