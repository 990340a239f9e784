// --web.listen-address of every role: HOST:PORT as Prometheus exporters spell it.
export interface ListenAddress {
  /** '' = every interface. */
  readonly host: string;
  readonly port: number;
}

/** Parses `:9177`, `0.0.0.0:9177`, `[::1]:9177`, `localhost:9177`; undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 0 || port > 65535) return undefined;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}
