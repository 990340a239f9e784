// Reads OpenStack Nova's instance metadata out of a libvirt domain XML. Nova writes it under
// <metadata> in its own namespace, with whatever prefix it likes (usually `nova:`), so the
// elements are matched by namespace URI, never by prefix.

import { NOVA_NAMESPACE, type NovaInstance } from './nova-instance.js';

export type { NovaInstance };

/**
 * The Nova metadata of a domain XML, or undefined when the domain has none. Rejects on malformed XML.
 * The XML parser is loaded on first use: hosts without OpenStack never carry it.
 */
export async function readNovaMetadata(domainXml: string): Promise<NovaInstance | undefined> {
  if (!domainXml.includes(NOVA_NAMESPACE)) return undefined;
  const { parseNovaXml } = await import('./nova-xml.js');
  return parseNovaXml(domainXml);
}
