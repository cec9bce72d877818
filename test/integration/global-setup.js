// One real control plane for all integration test files (they run one at a time, each in its own
// namespace); paths reach the test files through the environment. Jest loads this file outside its
// module system, so it uses the compiled harness (make test builds it first).
import { join } from 'node:path';
import { repoRoot, startControlPlane } from '../../dist/hack/cluster/controlplane.js';
import { installClinops } from '../../dist/hack/cluster/install.js';

export default async function globalSetup() {
  const cp = await startControlPlane({ crds: [join(repoRoot, 'crds')] });
  try {
    const { operatorKubeconfig } = await installClinops(cp);
    globalThis.__clinopsControlPlane = cp;
    process.env.CLINOPS_TEST_KUBECONFIG = cp.kubeconfig;
    process.env.CLINOPS_TEST_OPERATOR_KUBECONFIG = operatorKubeconfig;
    process.env.CLINOPS_TEST_AUDIT_LOG = cp.auditLog;
    process.env.CLINOPS_TEST_BIN_DIR = cp.binDir;
  } catch (err) {
    await cp.stop();
    throw err;
  }
}
