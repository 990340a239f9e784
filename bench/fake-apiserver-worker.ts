// The fake Kubernetes API server on its own thread for bench/events.ts, as a real API server has its own
// CPU: its parsing, validation and GC then do not stall the agent's event loop. Replies to 'requests'
// with the request log, times as epoch ms (performance.timeOrigin + now) to compare across threads.
// With workerData `{ tls: true }` it serves HTTPS with a certificate of a test CA, which its kubeconfig names.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startFakeCluster } from '../test/harness/fakes/kube-fixtures.js';
import { makeTestPki } from '../test/harness/inputs/tls.js';

const pki = (workerData as { tls?: boolean } | undefined)?.tls ? makeTestPki() : undefined;
const kube = await startFakeCluster(['default'], 'default', pki ? { tls: pki.server } : {});
const port = parentPort!;
// Each Eviction POST as it arrives, for the sequential scenario.
kube.onRequest = (entry) => {
  const labels = (entry.body as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels;
  if (entry.method === 'POST' && labels) port.postMessage({ type: 'post', uuid: labels['hypervisor.c5c3.io/domain-uuid'], at: performance.timeOrigin + entry.receivedAt });
};
port.on('message', async (message: { type: 'kubeconfig'; path: string } | { type: 'requests' } | { type: 'stop' }) => {
  switch (message.type) {
    case 'kubeconfig':
      await kube.writeKubeconfig(message.path, 'default', pki?.ca);
      port.postMessage({ type: 'kubeconfig' });
      break;
    case 'requests':
      port.postMessage({
        type: 'requests',
        requests: kube.requests.map((r) => ({ method: r.method, status: r.status, at: performance.timeOrigin + r.receivedAt, body: r.body })),
      });
      break;
    case 'stop':
      await kube.stop();
      port.close();
      break;
  }
});
port.postMessage({ type: 'ready' });
