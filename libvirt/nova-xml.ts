// The namespace-aware XML reading behind readNovaMetadata (nova-metadata.ts), kept apart so that saxes is loaded
// only on hosts whose domains carry Nova metadata.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { NOVA_NAMESPACE, type NovaInstance } from './nova-instance.js';

/**
 * A copy of `s` that shares no memory with the document it was cut from. V8 makes a substring a view into its
 * parent string, so a field cut from the XML would keep the whole domain XML alive for as long as its caller
 * caches the metadata (the exporter, the sidecar and the HA agent keep it per domain).
 */
const detached = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** The Nova metadata of a domain XML, or undefined when the domain has none. Throws on malformed XML. */
export function parseNovaXml(domainXml: string): NovaInstance | undefined {
  const parser = new SaxesParser({ xmlns: true });
  /** Local names of the open Nova elements, outermost first; empty outside <nova:instance>. */
  const path: string[] = [];
  let found = false;
  let text = '';
  const fields = { instanceName: '', flavor: '', projectId: '', projectName: '', userId: '', userName: '' };
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (tag.uri !== NOVA_NAMESPACE || (path.length === 0 && (tag.local !== 'instance' || found))) {
      if (path.length > 0) path.push('');
      return;
    }
    path.push(tag.local);
    text = '';
    const where = path.join('/');
    if (where === 'instance') found = true;
    else if (where === 'instance/flavor') fields.flavor = detached(tag.attributes.name?.value ?? '');
    else if (where === 'instance/owner/user') fields.userId = detached(tag.attributes.uuid?.value ?? '');
    else if (where === 'instance/owner/project') fields.projectId = detached(tag.attributes.uuid?.value ?? '');
  });
  parser.on('text', (chunk) => {
    text += chunk;
  });
  parser.on('closetag', () => {
    if (path.length === 0) return;
    const where = path.join('/');
    if (where === 'instance/name') fields.instanceName = detached(text.trim());
    else if (where === 'instance/owner/user') fields.userName = detached(text.trim());
    else if (where === 'instance/owner/project') fields.projectName = detached(text.trim());
    path.pop();
  });
  parser.write(domainXml).close();
  return found ? fields : undefined;
}
