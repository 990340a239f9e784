// Shared bits of the libvirt client's integration tests: a client closed at teardown, and virsh's
// `domstats --raw` text parsed into the same shape as our decoded records.
import { connect } from '../../../libvirt/client.js';
import type { ConnectOptions, LibvirtClient, StatsParamValue } from '../../../libvirt/types.js';
import type { Teardown } from './domains.js';

/** Connects and closes the client when the test ends. */
export async function client(t: Teardown, uri: string, options: ConnectOptions = {}): Promise<LibvirtClient> {
  const c = await connect(uri, options);
  t.teardown(() => c.close());
  return c;
}

/** `virsh domstats --raw` → domain name → field → value text. */
export function parseDomstatsRaw(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const domain = /^Domain: '(.*)'$/.exec(line);
    if (domain) {
      current = new Map();
      out.set(domain[1]!, current);
      continue;
    }
    const field = /^ {2}([^=]+)=(.*)$/.exec(line);
    if (field && current) current.set(field[1]!, field[2]!);
  }
  return out;
}

/** A typed parameter as virsh prints it (libvirt's virTypedParameterToString: %g for doubles, yes/no). */
export function virshText(value: StatsParamValue): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && !Number.isInteger(value)) {
    const g = value.toPrecision(6);
    return g.includes('e') ? g.replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2') : g.replace(/\.?0+$/, '');
  }
  return String(value);
}
