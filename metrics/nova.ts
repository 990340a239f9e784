// Reads OpenStack Nova's instance metadata out of a libvirt domain XML. Nova writes it under
// <metadata> in its own namespace, with whatever prefix it likes (usually `nova:`), so the
// elements are matched by namespace URI, never by prefix.
import { SaxesParser, type SaxesTagNS } from 'saxes';

export const NOVA_NAMESPACE = 'http://openstack.org/xmlns/libvirt/nova/1.1';

export interface NovaInstance {
  readonly instanceName: string;
  readonly flavor: string;
  readonly projectId: string;
  readonly projectName: string;
  readonly userId: string;
  readonly userName: string;
}

/** The Nova metadata of a domain XML, or undefined when the domain has none. Throws on malformed XML. */
export function parseNovaMetadata(domainXml: string): NovaInstance | undefined {
  if (!domainXml.includes(NOVA_NAMESPACE)) return undefined;
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
