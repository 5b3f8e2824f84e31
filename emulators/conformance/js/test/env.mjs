// Shared settings for the conformance scripts. Every value comes from the environment so the
// Go harness (conformance_test.go) or a person running `sfjira emulate` can point the scripts
// at any emulator instance.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// js/test -> js -> conformance -> emulators -> repo root
const repoRoot = resolve(here, '..', '..', '..', '..');

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is not set (run through "go test ./emulators/conformance/" or export it, e.g. ${name}=http://127.0.0.1:8410)`);
  }
  return v.replace(/\/+$/, '');
}

export const sf = {
  get url() { return need('SFJIRA_SF_URL'); },
  clientId: process.env.SFJIRA_SF_CLIENT_ID || 'sfjira-demo',
  clientSecret: process.env.SFJIRA_SF_CLIENT_SECRET || 'sfjira-demo-secret',
  username: process.env.SFJIRA_SF_USERNAME || 'integration@sfjira.demo',
  apiVersion: process.env.SFJIRA_SF_API_VERSION || '62.0',
  // Number of Opportunities the harness seeded before the scripts start (query paging check).
  seededOpportunities: Number(process.env.SFJIRA_SF_SEEDED_OPPORTUNITIES || '0'),
  jwtKeyPath: process.env.SFJIRA_JWT_KEY || resolve(repoRoot, 'deploy', 'dev', 'jwt', 'demo-key.pem'),
  // Real orgs want aud = https://login.salesforce.com (or test./community URL).
  jwtAudience: process.env.SFJIRA_SF_JWT_AUDIENCE || 'https://login.salesforce.com',
};

export const jira = {
  get url() { return need('SFJIRA_JIRA_URL'); },
  email: process.env.SFJIRA_JIRA_EMAIL || 'integration@sfjira.demo',
  apiToken: process.env.SFJIRA_JIRA_TOKEN || 'sfjira-demo-token',
  projectKey: process.env.SFJIRA_JIRA_PROJECT || 'SFJ',
};

export { existsSync };

/** Unique suffix so repeated runs against a long-lived emulator do not collide. */
export const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** Plain fetch against an emulator admin endpoint; returns parsed JSON. */
export async function admin(base, path, body) {
  const res = await fetch(base + path, body === undefined
    ? {}
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Minimal Atlassian Document Format paragraph. */
export function adf(text) {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}
