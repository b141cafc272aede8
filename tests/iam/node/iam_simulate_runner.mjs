// Test-only bridge to @cloud-copilot/iam-simulate (AGPL): reads JSON Lines {policy, request} on stdin and
// prints one decision per line. It is run as a separate process by tests/iam/test_iam_simulate_diff.py
// and is never imported or shipped. IAM_SIMULATE_DIR names a directory with node_modules/ holding it.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import path from 'node:path';

const base = process.env.IAM_SIMULATE_DIR;
const require = createRequire(path.join(base, 'package.json'));
const { runUnsafeSimulation, anonymousPrincipal } = await import(require.resolve('@cloud-copilot/iam-simulate'));

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { policy, request } = JSON.parse(line);
  let decision;
  try {
    decision = runUnsafeSimulation(
      {
        request: {
          principal: request.principal ?? 'arn:aws:iam::123456789012:user/tester',
          action: request.action,
          resource: { resource: request.resource, accountId: '123456789012' },
          contextVariables: request.context ?? {},
        },
        identityPolicies: [{ name: 'p', policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
  } catch (err) {
    decision = `error: ${err.message}`;
  }
  console.log(JSON.stringify(decision));
}
