// Jira emulator conformance through jira.js 5.4.0 (Version3Client) plus a signed admin webhook.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Version3Client } from 'jira.js';
import { jira, runId, adf } from './env.mjs';

const JIRA_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/;

function client() {
  return new Version3Client({ host: jira.url, authentication: { basic: { email: jira.email, apiToken: jira.apiToken } } });
}

function fields(summary, extra = {}) {
  return { project: { key: jira.projectKey }, issuetype: { name: 'Task' }, summary, ...extra };
}

/** Status of a jira.js HttpException (5.x) or axios error. */
function statusOf(err) {
  return err?.status ?? err?.response?.status ?? err?.cause?.response?.status;
}
function dataOf(err) {
  return err?.data ?? err?.response?.data ?? err?.cause?.response?.data;
}

async function rawJira(method, path, body) {
  const res = await fetch(jira.url + path, {
    method,
    headers: {
      authorization: 'Basic ' + Buffer.from(`${jira.email}:${jira.apiToken}`).toString('base64'),
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

describe('jira: metadata', () => {
  const c = client();
  it('myself, project, fields, createmeta', async () => {
    const me = await c.myself.getCurrentUser();
    assert.equal(me.emailAddress, jira.email);
    assert.ok(me.accountId);
    const p = await c.projects.getProject({ projectIdOrKey: jira.projectKey });
    assert.equal(p.key, jira.projectKey);
    const f = await c.issueFields.getFields();
    assert.ok(f.some((x) => x.id === 'summary' && x.custom === false));
    assert.ok(f.some((x) => x.id.startsWith('customfield_') && x.custom === true && x.schema?.customId));
    const types = await c.issues.getCreateIssueMetaIssueTypes({ projectIdOrKey: jira.projectKey });
    const task = types.issueTypes.find((t) => t.name === 'Task');
    assert.ok(task, JSON.stringify(types));
    const meta = await c.issues.getCreateIssueMetaIssueTypeId({ projectIdOrKey: jira.projectKey, issueTypeId: task.id });
    assert.ok(meta.fields.some((x) => x.fieldId === 'summary' && x.required === true));
  });
});

describe('jira: issues through jira.js', () => {
  const c = client();
  let key;
  let id;

  it('create, get (fields + properties), edit', async () => {
    const created = await c.issues.createIssue({
      fields: fields(`Create ${runId}`, { description: adf('Synced from Salesforce'), labels: ['conformance'], customfield_10050: 1234.5 }),
      properties: [{ key: 'sfjira', value: { sfId: '006000000000001AAA' } }],
    });
    assert.match(created.id, /^\d+$/);
    assert.match(created.key, new RegExp(`^${jira.projectKey}-\\d+$`));
    assert.equal(created.self, `${jira.url}/rest/api/3/issue/${created.id}`);
    key = created.key;
    id = created.id;

    const is = await c.issues.getIssue({ issueIdOrKey: key, fields: ['summary', 'status', 'labels', 'created', 'customfield_10050'], properties: ['sfjira'] });
    assert.equal(is.key, key);
    assert.equal(is.fields.summary, `Create ${runId}`);
    assert.equal(is.fields.status.name, 'To Do');
    assert.deepEqual(is.fields.labels, ['conformance']);
    assert.equal(is.fields.customfield_10050, 1234.5);
    assert.match(is.fields.created, JIRA_DATETIME);
    assert.equal(is.fields.description, undefined, 'fields= limits the returned fields');
    assert.deepEqual(is.properties?.sfjira, { sfId: '006000000000001AAA' });

    await c.issues.editIssue({ issueIdOrKey: key, fields: { summary: `Edited ${runId}` }, update: { labels: [{ add: 'edited' }] } });
    const again = await c.issues.getIssue({ issueIdOrKey: id, fields: ['summary', 'labels'] });
    assert.equal(again.fields.summary, `Edited ${runId}`);
    assert.deepEqual([...again.fields.labels].sort(), ['conformance', 'edited']);
  });

  it('unknown issue → 404 ErrorCollection', async () => {
    await assert.rejects(c.issues.getIssue({ issueIdOrKey: `${jira.projectKey}-999999` }), (err) => {
      assert.equal(statusOf(err), 404);
      assert.deepEqual(dataOf(err).errorMessages, ['Issue does not exist or you do not have permission to see it.']);
      return true;
    });
  });

  it('bulk create (incl. a failed element)', async () => {
    const res = await c.issues.createIssues({
      issueUpdates: [
        { fields: fields(`Bulk 1 ${runId}`) },
        { fields: { project: { key: jira.projectKey }, issuetype: { name: 'Task' } } }, // no summary
        { fields: fields(`Bulk 3 ${runId}`) },
      ],
    });
    assert.equal(res.issues.length, 2);
    assert.equal(res.errors.length, 1);
    assert.equal(res.errors[0].failedElementNumber, 1);
    assert.equal(res.errors[0].status, 400);
    assert.ok(res.errors[0].elementErrors.errors.summary);
  });

  it('transitions: list and perform', async () => {
    const tr = await c.issues.getTransitions({ issueIdOrKey: key });
    const start = tr.transitions.find((t) => t.to?.name === 'In Progress');
    assert.ok(start, JSON.stringify(tr));
    assert.equal(typeof start.id, 'string');
    await c.issues.doTransition({ issueIdOrKey: key, transition: { id: start.id } });
    const is = await c.issues.getIssue({ issueIdOrKey: key, fields: ['status'] });
    assert.equal(is.fields.status.name, 'In Progress');
    await assert.rejects(c.issues.doTransition({ issueIdOrKey: key, transition: { id: '99999' } }), (err) => {
      assert.equal(statusOf(err), 400);
      return true;
    });
  });

  it('comments: add and list', async () => {
    const cm = await c.issueComments.addComment({ issueIdOrKey: key, comment: adf('Stage changed to Closed Won') });
    assert.match(cm.id, /^\d+$/);
    assert.equal(cm.body?.type, 'doc');
    assert.match(cm.created, JIRA_DATETIME);
    assert.ok(cm.author?.accountId);
    const list = await c.issueComments.getComments({ issueIdOrKey: key });
    assert.equal(list.total, 1);
    assert.equal(list.startAt, 0);
    assert.equal(list.comments[0].id, cm.id);
  });

  it('worklogs: add and list', async () => {
    const wl = await c.issueWorklogs.addWorklog({
      issueIdOrKey: key, timeSpentSeconds: 5400, started: '2026-01-15T09:30:00.000+0000', comment: adf('Call with customer'),
    });
    assert.match(wl.id, /^\d+$/);
    assert.equal(wl.timeSpentSeconds, 5400);
    assert.equal(wl.timeSpent, '1h 30m');
    assert.equal(wl.issueId, id);
    const list = await c.issueWorklogs.getIssueWorklog({ issueIdOrKey: key });
    assert.equal(list.total, 1);
    assert.equal(list.worklogs[0].id, wl.id);
  });

  it('issue properties: set, get, list, delete', async () => {
    await c.issueProperties.setIssueProperty({ issueIdOrKey: key, propertyKey: 'sfjira.sync', propertyValue: { version: 3, hash: 'abc' } });
    const p = await c.issueProperties.getIssueProperty({ issueIdOrKey: key, propertyKey: 'sfjira.sync' });
    assert.deepEqual(p, { key: 'sfjira.sync', value: { version: 3, hash: 'abc' } });
    const keys = await c.issueProperties.getIssuePropertyKeys({ issueIdOrKey: key });
    assert.deepEqual(keys.keys.map((k) => k.key).sort(), ['sfjira', 'sfjira.sync']);
    await c.issueProperties.deleteIssueProperty({ issueIdOrKey: key, propertyKey: 'sfjira.sync' });
    await assert.rejects(c.issueProperties.getIssueProperty({ issueIdOrKey: key, propertyKey: 'sfjira.sync' }), (err) => {
      assert.equal(statusOf(err), 404);
      return true;
    });
  });

  it('remote links: create and list', async () => {
    const globalId = `system=salesforce&id=006000000000001AAA-${runId}`;
    const rl = await c.issueRemoteLinks.createOrUpdateRemoteIssueLink({
      issueIdOrKey: key, globalId, relationship: 'synced from',
      application: { type: 'com.salesforce', name: 'Salesforce' },
      object: { url: 'https://example.my.salesforce.com/006000000000001AAA', title: 'Opportunity 006000000000001AAA' },
    });
    assert.equal(typeof rl.id, 'number');
    assert.ok(rl.self);
    const links = await c.issueRemoteLinks.getRemoteIssueLinks({ issueIdOrKey: key });
    const list = Array.isArray(links) ? links : [links];
    assert.ok(list.some((l) => l.globalId === globalId));
  });

  it('user search', async () => {
    const users = await c.userSearch.findUsers({ query: 'integration' });
    assert.ok(Array.isArray(users));
    assert.ok(users.length >= 1);
    assert.ok(users[0].accountId);
    assert.equal(users[0].accountType, 'atlassian');
  });
});

describe('jira: enhanced search pagination', () => {
  const c = client();
  const label = `page_${runId}`;
  const N = 120;
  before(async () => {
    for (let i = 0; i < N; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(N, i + 50); j++) batch.push({ fields: fields(`Page ${j} ${runId}`, { labels: [label] }) });
      const res = await c.issues.createIssues({ issueUpdates: batch });
      assert.equal(res.issues.length, batch.length, JSON.stringify(res.errors));
    }
  });

  it('GET /search/jql follows nextPageToken to the last page', async () => {
    const keys = [];
    let token;
    let pages = 0;
    for (;;) {
      const page = await c.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
        jql: `project = ${jira.projectKey} AND labels = ${label} ORDER BY key ASC`, maxResults: 50, fields: ['summary', 'labels'], nextPageToken: token,
      });
      pages++;
      assert.equal(page.total, undefined, 'enhanced search has no total');
      for (const is of page.issues) { keys.push(is.key); assert.ok(is.fields.summary.startsWith('Page ')); }
      if (page.isLast) { assert.equal(page.nextPageToken, undefined, 'no token on the last page'); break; }
      assert.ok(page.nextPageToken, 'token when not last');
      token = page.nextPageToken;
      assert.ok(pages < 10, 'runaway pagination');
    }
    assert.equal(pages, 3);
    assert.equal(keys.length, N);
    assert.equal(new Set(keys).size, N);
  });

  it('POST /search/jql with default fields returns ids only', async () => {
    const page = await c.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql: `labels = ${label}`, maxResults: 100 });
    assert.equal(page.issues.length, 100);
    assert.equal(page.isLast, false);
    assert.ok(page.issues[0].id);
    assert.equal(page.issues[0].fields?.summary, undefined, 'default fields is id only');
    const rest = await c.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql: `labels = ${label}`, maxResults: 100, nextPageToken: page.nextPageToken });
    assert.equal(rest.issues.length, N - 100);
    assert.equal(rest.isLast, true);
  });

  it('unbounded JQL and bad JQL → 400', async () => {
    await assert.rejects(c.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'order by key desc' }), (err) => {
      assert.equal(statusOf(err), 400);
      return true;
    });
    await assert.rejects(c.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'project = = SFJ' }), (err) => {
      assert.equal(statusOf(err), 400);
      assert.ok(dataOf(err).errorMessages.length > 0);
      return true;
    });
  });
});

describe('jira: admin webhook with X-Hub-Signature', () => {
  const secret = `whsec-${runId}`;
  const deliveries = [];
  let server;
  let hookURL;
  let webhookSelf;
  let waiters = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
        for (const w of waiters) w();
        waiters = [];
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    hookURL = `http://127.0.0.1:${server.address().port}/hook`;
  });
  after(async () => {
    if (webhookSelf) await rawJira('DELETE', new URL(webhookSelf).pathname).catch(() => {});
    await new Promise((r) => server.close(r));
  });

  function waitFor(pred, ms) {
    return new Promise((resolve) => {
      const deadline = setTimeout(() => resolve(deliveries.find(pred)), ms);
      const check = () => {
        const d = deliveries.find(pred);
        if (d) { clearTimeout(deadline); resolve(d); } else waiters.push(check);
      };
      check();
    });
  }

  it('delivery for jira:issue_created is signed with HMAC-SHA256 of the raw body', async () => {
    const reg = await rawJira('POST', '/rest/webhooks/1.0/webhook', {
      name: `conformance ${runId}`, url: hookURL, events: ['jira:issue_created', 'jira:issue_updated'],
      filters: { 'issue-related-events-section': `project = ${jira.projectKey}` }, excludeBody: false, secret,
    });
    assert.equal(reg.status, 201, `register webhook: ${reg.status} ${reg.text}`);
    webhookSelf = reg.json.self;
    assert.match(webhookSelf, /\/rest\/webhooks\/1\.0\/webhook\/\d+$/);

    const created = await client().issues.createIssue({ fields: fields(`Hooked ${runId}`) });
    const d = await waitFor((x) => x.raw.includes(created.key), 5000);
    assert.ok(d, `no delivery for ${created.key} within 5 s (got ${deliveries.length})`);

    const sig = d.headers['x-hub-signature'];
    assert.match(sig ?? '', /^sha256=[0-9a-f]{64}$/, `X-Hub-Signature: ${sig}`);
    const want = 'sha256=' + createHmac('sha256', secret).update(d.raw).digest('hex');
    assert.ok(timingSafeEqual(Buffer.from(sig), Buffer.from(want)), 'signature must be HMAC-SHA256(secret, raw body)');
    const bad = 'sha256=' + createHmac('sha256', 'wrong').update(d.raw).digest('hex');
    assert.notEqual(sig, bad);

    assert.ok(d.headers['x-atlassian-webhook-identifier'], 'X-Atlassian-Webhook-Identifier header');
    assert.equal(d.headers['x-atlassian-webhook-retry'], undefined, 'no retry header on the first attempt');
    assert.match(d.headers['content-type'] ?? '', /^application\/json/);
    const body = JSON.parse(d.raw.toString('utf8'));
    assert.equal(body.webhookEvent, 'jira:issue_created');
    assert.equal(body.issue_event_type_name, 'issue_created');
    assert.equal(typeof body.timestamp, 'number');
    assert.equal(body.issue.key, created.key);
    assert.equal(body.issue.id, created.id);
    assert.ok(body.user?.accountId);
    // Webhook payloads carry the v2 representation (shared/api/jira.md §10).
    assert.match(body.issue.self, /\/rest\/api\/2\//, `issue.self ${body.issue.self}`);
    assert.equal(body.issue.fields.summary, `Hooked ${runId}`);
    assert.equal(body.issue.fields.status?.name, 'To Do');
  });
});
