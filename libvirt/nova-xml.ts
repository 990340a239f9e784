// The namespace-aware XML reading behind readNovaMetadata (nova-metadata.ts), kept apart so that saxes is loaded
// only on hosts whose domains carry Nova metadata.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { NOVA_NAMESPACE, type NovaInstance } from './nova-instance.js';

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
    else if (where === 'instance/flavor') fields.flavor = tag.attributes.name?.value ?? '';
    else if (where === 'instance/owner/user') fields.userId = tag.attributes.uuid?.value ?? '';
    else if (where === 'instance/owner/project') fields.projectId = tag.attributes.uuid?.value ?? '';
  });
  parser.on('text', (chunk) => {
    text += chunk;
  });
  parser.on('closetag', () => {
    if (path.length === 0) return;
    const where = path.join('/');
    if (where === 'instance/name') fields.instanceName = text.trim();
    else if (where === 'instance/owner/user') fields.userName = text.trim();
    else if (where === 'instance/owner/project') fields.projectName = text.trim();
    path.pop();
  });
  parser.write(domainXml).close();
  return found ? fields : undefined;
}
