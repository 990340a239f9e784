// What is read of OpenStack Nova's instance metadata (the exporter's libvirt_domain_openstack_info series, the sidecar's
// records), shared by the cheap check (nova-metadata.ts) and the XML reading (nova-xml.ts), which loads only
// where Nova metadata is present.

export const NOVA_NAMESPACE = 'http://openstack.org/xmlns/libvirt/nova/1.1';

export interface NovaInstance {
  readonly instanceName: string;
  readonly flavor: string;
  readonly projectId: string;
  readonly projectName: string;
  readonly userId: string;
  readonly userName: string;
}
