// The environment tsvisor was started with, and the one its own node processes get.
// bin/tsvisor starts node without NODE_EXTRA_CA_CERTS, whose certificates Node 20 loads
// at start-up (45 ms) though tsvisor makes no TLS connection, and keeps the value in
// SAVED_EXTRA_CA_CERTS.
const EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS';
const SAVED_EXTRA_CA_CERTS = 'TSVISOR_CALLER_NODE_EXTRA_CA_CERTS';

/** The caller's environment as it was, which `tsvisor do` hands to the program. */
export function callerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const saved = env[SAVED_EXTRA_CA_CERTS];
  delete env[SAVED_EXTRA_CA_CERTS];
  if (saved !== undefined) env[EXTRA_CA_CERTS] = saved;
  return env;
}

/** The environment of the daemons tsvisor starts: its own, without the start-up cost. */
export function ownNodeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_NO_WARNINGS: '1' };
  delete env[EXTRA_CA_CERTS];
  return env;
}
