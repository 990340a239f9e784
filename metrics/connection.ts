// The exporter's one persistent read-only connection to libvirtd. When it drops, it is re-established in
// the background with exponential backoff, and a scrape that finds no connection tries once itself, so
// libvirt_up turns 1 on the first scrape after libvirtd is back.
import type { Connect, LibvirtClient } from '../libvirt/types.js';
import { errorText, type Logger } from '../runtime/log.js';

export interface ConnectionOptions {
  readonly uri: string;
  readonly connect: Connect;
  readonly log: Logger;
  /** Deadline of one connection attempt (socket + handshake). */
  readonly connectTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
}

export class LibvirtConnection {
  private client: LibvirtClient | undefined;
  private attempt: Promise<LibvirtClient> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private lastAttemptAt = -Infinity;
  private lastError: Error = new Error('not connected yet');
  private stopped = false;
  /** Connections established so far (the first one included). */
  connects = 0;

  constructor(private readonly options: ConnectionOptions) {
    this.backoffMs = options.backoffMinMs;
  }

  /** Connects in the background; failures are retried with backoff. */
  start(): void {
    this.tryConnect().catch(() => undefined);
  }

  /**
   * The connected client. Without one, joins the attempt in flight or starts one — unless the last attempt
   * began less than the minimum backoff ago, which keeps a burst of scrapes from hammering a dead daemon.
   */
  async get(): Promise<LibvirtClient> {
    if (this.client && !this.client.isClosed) return this.client;
    if (this.attempt) return await this.attempt;
    if (performance.now() - this.lastAttemptAt < this.options.backoffMinMs) throw this.lastError;
    return await this.tryConnect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client ?? (await this.attempt?.catch(() => undefined));
    this.client = undefined;
    await client?.close();
  }

  private tryConnect(): Promise<LibvirtClient> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.lastAttemptAt = performance.now();
    const { uri, connect, connectTimeoutMs, log } = this.options;
    this.attempt = connect(uri, { readOnly: true, signal: AbortSignal.timeout(connectTimeoutMs) }).then(
      (client) => {
        this.attempt = undefined;
        if (this.stopped) {
          void client.close();
          throw new Error('exporter is stopping');
        }
        this.client = client;
        this.connects++;
        this.backoffMs = this.options.backoffMinMs;
        log('info', 'connected to libvirtd', { uri });
        void client.closed.then((info) => this.lost(client, info.error ?? new Error(`connection closed (${info.reason})`)));
        return client;
      },
      (err: unknown) => {
        this.attempt = undefined;
        const error = err instanceof Error ? err : new Error(String(err));
        if (this.connects === 0 || errorText(error) !== errorText(this.lastError)) {
          log('warn', 'cannot connect to libvirtd', { uri, error: errorText(error), retry_in_ms: this.backoffMs });
        }
        this.lastError = error;
        this.scheduleRetry();
        throw error;
      },
    );
    return this.attempt;
  }

  private lost(client: LibvirtClient, error: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.lastError = error;
    this.options.log('warn', 'lost the connection to libvirtd', { uri: this.options.uri, error: errorText(error) });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.client && !this.attempt) this.tryConnect().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }
}
