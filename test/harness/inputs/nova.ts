// Nova's instance metadata as its libvirt driver writes it into a domain's <metadata> (nova/virt/libvirt/config.py),
// for domains that stand for OpenStack instances in the tests.

export interface NovaInstanceFixture {
  readonly name: string;
  readonly projectId: string;
  readonly projectName: string;
}

export const NOVA_INSTANCE: NovaInstanceFixture = { name: 'web-1', projectId: '9f8e7d6c5b4a49388a1b2c3d4e5f6a7b', projectName: 'demo' };

/** The `<nova:instance>` element (goes inside the domain's `<metadata>`). */
export function novaInstanceXml(nova: NovaInstanceFixture = NOVA_INSTANCE): string {
  return `<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="27.1.0"/>
      <nova:name>${nova.name}</nova:name>
      <nova:flavor name="m1.tiny"><nova:memory>128</nova:memory><nova:vcpus>1</nova:vcpus></nova:flavor>
      <nova:owner>
        <nova:user uuid="0a1b2c3d4e5f46478899aabbccddeeff">alice</nova:user>
        <nova:project uuid="${nova.projectId}">${nova.projectName}</nova:project>
      </nova:owner>
    </nova:instance>`;
}
