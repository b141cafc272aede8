// Test-only bridge to @cloud-copilot/iam-simulate (AGPL): reads JSON Lines on stdin and prints one decision
// per line. It is run as a separate process by tests/iam/test_iam_simulate_diff.py and
// bench/iam_differential.py, and is never imported or shipped. IAM_SIMULATE_DIR names a directory with
// node_modules/ holding it.
//
// A line is {policy, request} (one identity policy), or a policy set {identity: [...], resource, boundary:
// [...], session, scp: [...], request}. A request is {action, resource, principal, context,
// resource_account}; principal "" is an anonymous caller. Policy sets go to the engine's core `authorize`
// (the package's `runUnsafeSimulation` leaves the session policy out; `runSimulation` also validates and
// drops context keys, which would test its validator rather than its evaluation).
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const base = process.env.IAM_SIMULATE_DIR;
const require = createRequire(path.join(base, 'package.json'));
const entry = require.resolve('@cloud-copilot/iam-simulate');
const { runUnsafeSimulation } = await import(entry);
const dist = path.dirname(entry.includes('/cjs/') ? entry.replace('/cjs/', '/esm/') : entry);
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
const { authorize } = await load('core_engine/CoreSimulatorEngine.js');
const { AwsRequestImpl } = await load('request/request.js');
const { RequestContextImpl } = await load('requestContext.js');
const { DiscoveryContextKeyConstraints } = await load('context_keys/discoveryContextKeyConstraints.js');
const { anonymousPrincipal } = await load('simulation_engine/simulation.js');
const policyRequire = createRequire(entry);
const { loadPolicy } = await import(policyRequire.resolve('@cloud-copilot/iam-policy'));

const DEFAULT_ACCOUNT = '123456789012';

function runSet(line) {
  const { request } = line;
  const principal = request.principal === '' ? anonymousPrincipal : request.principal;
  const awsRequest = new AwsRequestImpl(
    principal,
    { resource: request.resource, accountId: request.resource_account ?? DEFAULT_ACCOUNT },
    request.action,
    new RequestContextImpl(request.context ?? {}),
  );
  const analysis = authorize({
    request: awsRequest,
    sessionPolicy: line.session ? loadPolicy(line.session, { name: 'session' }) : undefined,
    identityPolicies: (line.identity ?? []).map((p, i) => loadPolicy(p, { name: `identity${i}` })),
    // one organizational level per SCP: every level must allow
    serviceControlPolicies: (line.scp ?? []).map((p, i) => ({
      orgIdentifier: `ou-${i}`,
      policies: [loadPolicy(p, { name: `scp${i}` })],
    })),
    resourceControlPolicies: [],
    resourcePolicy: line.resource ? loadPolicy(line.resource, { name: 'resource' }) : undefined,
    permissionBoundaries: line.boundary?.length
      ? line.boundary.map((p, i) => loadPolicy(p, { name: `boundary${i}` }))
      : undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
    },
    serviceSettings: { s3: {} },
  });
  return analysis.result;
}

function runIdentity(line) {
  const { policy, request } = line;
  return runUnsafeSimulation(
    {
      request: {
        principal: request.principal ?? `arn:aws:iam::${DEFAULT_ACCOUNT}:user/tester`,
        action: request.action,
        resource: { resource: request.resource, accountId: DEFAULT_ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies: [{ name: 'p', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

const lines = createInterface({ input: process.stdin });
for await (const text of lines) {
  if (!text.trim()) continue;
  const line = JSON.parse(text);
  let decision;
  try {
    decision = 'policy' in line ? runIdentity(line) : runSet(line);
  } catch (err) {
    decision = `error: ${err.message}`;
  }
  console.log(JSON.stringify(decision));
}
