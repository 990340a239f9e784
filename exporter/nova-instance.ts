// What the exporter reads of OpenStack Nova's instance metadata, shared by the cheap check (nova.ts) and the
// XML reading (nova-xml.ts), which loads only where Nova metadata is present.

export const NOVA_NAMESPACE = 'http://openstack.org/xmlns/libvirt/nova/1.1';

export interface NovaInstance {
  readonly instanceName: string;
  readonly flavor: string;
  readonly projectId: string;
  readonly projectName: string;
  readonly userId: string;
  readonly userName: string;
}
