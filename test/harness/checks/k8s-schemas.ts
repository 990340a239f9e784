// Validates Kubernetes objects against the OpenAPI schemas of their kinds (the kubernetes-models
// packages, generated from the Kubernetes and prometheus-operator specs). Required fields, types,
// enums and formats (e.g. quantities) are checked; unknown fields are not (the models allow them).
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Model> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Throws when the object is not a valid instance of its apiVersion/kind, or the kind is not known here. */
export function validateManifest(object: Record<string, unknown>): void {
  const key = `${String(object['apiVersion'])}/${String(object['kind'])}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema for ${key}`);
  new model(structuredClone(object) as never).validate();
}

interface PodSpecPatch {
  spec: { template: { spec: { containers: Record<string, unknown>[]; volumes: Record<string, unknown>[] } } };
}

/**
 * A strategic merge patch of a DaemonSet is partial by design; its containers and volumes are checked as
 * a Pod holding them. Containers the patch only adds mounts to (no image) get a stand-in image.
 */
export function podOfPatch(patch: Record<string, unknown>): Record<string, unknown> {
  const { containers, volumes } = (patch as unknown as PodSpecPatch).spec.template.spec;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'libvirt' },
    spec: { containers: containers.map((c) => ({ image: 'libvirt', ...c })), volumes },
  };
}
