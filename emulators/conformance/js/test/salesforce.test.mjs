// Salesforce emulator conformance through jsforce 3 (the real npm client).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jsforce from 'jsforce';
import { sf, admin, runId, existsSync } from './env.mjs';

const SF_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;

function newConnection(oauth2) {
  return new jsforce.Connection({ oauth2: { loginUrl: sf.url, ...oauth2 }, version: sf.apiVersion });
}

async function clientCredentialsConnection() {
  const conn = newConnection({ clientId: sf.clientId, clientSecret: sf.clientSecret });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

/** RS256 JWT bearer assertion the way Salesforce documents it (iss, sub, aud, exp). */
function jwtAssertion(keyPem, claims = {}) {
  const header = { alg: 'RS256', typ: 'JWT' };
  const body = {
    iss: sf.clientId,
    sub: sf.username,
    aud: sf.jwtAudience,
    exp: Math.floor(Date.now() / 1000) + 180,
    ...claims,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`;
  const sig = createSign('RSA-SHA256').update(input).sign(keyPem);
  return `${input}.${b64url(sig)}`;
}

function opp(name, extra = {}) {
  return { Name: name, StageName: 'Prospecting', CloseDate: '2026-06-30', Amount: 1000, ...extra };
}

const ID_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
/** Salesforce's 18-char id checksum (shared/api/salesforce.md §10). */
function to18(id15) {
  let s = id15;
  for (let c = 0; c < 3; c++) {
    let v = 0;
    for (let i = 0; i < 5; i++) { const ch = id15[c * 5 + i]; if (ch >= 'A' && ch <= 'Z') v |= 1 << i; }
    s += ID_ALPHA[v];
  }
  return s;
}
function assertId(id, prefix) {
  assert.match(id, new RegExp(`^${prefix}[0-9A-Za-z]{15}$`));
  assert.equal(to18(id.slice(0, 15)), id, `checksum of ${id}`);
}

async function stats() {
  return admin(sf.url, '/__admin/stats');
}

describe('salesforce: OAuth', () => {
  it('client credentials login through jsforce authorize()', async () => {
    const conn = newConnection({ clientId: sf.clientId, clientSecret: sf.clientSecret });
    const userInfo = await conn.authorize({ grant_type: 'client_credentials' });
    assert.equal(conn.instanceUrl, sf.url, 'instance_url must point back at the emulator');
    assert.match(conn.accessToken, /^00D[0-9A-Za-z]{12}!/, 'access token starts with the 15-char org id and "!"');
    assert.match(userInfo.id, /^005[0-9A-Za-z]{15}$/, 'user id parsed from the identity URL');
    assert.match(userInfo.organizationId, /^00D[0-9A-Za-z]{15}$/);
    const res = await conn.query(`SELECT Id, Username FROM User WHERE Username = '${sf.username}'`);
    assert.equal(res.totalSize, 1);
    assert.equal(res.records[0].Id, userInfo.id);
  });

  it('client credentials with a wrong secret fails with an OAuth error', async () => {
    const conn = newConnection({ clientId: sf.clientId, clientSecret: 'wrong-secret' });
    await assert.rejects(conn.authorize({ grant_type: 'client_credentials' }), (err) => {
      assert.match(err.name, /^invalid_(client|grant)/, `error name ${err.name}`);
      return true;
    });
  });

  it('JWT bearer flow with the demo key', async (t) => {
    if (!existsSync(sf.jwtKeyPath)) {
      t.skip(`JWT demo key ${sf.jwtKeyPath} does not exist yet (Salesforce emulator JWT support not merged)`);
      return;
    }
    const key = readFileSync(sf.jwtKeyPath, 'utf8');
    const conn = newConnection({}); // JWT bearer needs no client secret
    const userInfo = await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: jwtAssertion(key),
    });
    assert.equal(conn.instanceUrl, sf.url);
    assert.ok(conn.accessToken);
    assert.equal(conn.refreshToken, undefined, 'JWT bearer never returns a refresh token');
    const res = await conn.query(`SELECT Id FROM User WHERE Username = '${sf.username}'`);
    assert.equal(res.records[0].Id, userInfo.id);

    // A tampered assertion is refused with invalid_grant.
    const bad = jwtAssertion(key);
    const tampered = bad.slice(0, -6) + (bad.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    await assert.rejects(newConnection({}).authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: tampered,
    }), (err) => { assert.equal(err.name, 'invalid_grant'); return true; });
  });
});

describe('salesforce: REST through jsforce', () => {
  let conn;
  before(async () => { conn = await clientCredentialsConnection(); });

  it('query with autoFetch walks queryMore across more than 2,000 records', async () => {
    const before = await stats();
    const res = await conn.query('SELECT Id, Name, StageName, Amount FROM Opportunity', { autoFetch: true, maxFetch: 100000 });
    assert.ok(res.totalSize > 2000, `seed more than 2000 Opportunities (totalSize=${res.totalSize})`);
    if (sf.seededOpportunities) assert.ok(res.totalSize >= sf.seededOpportunities);
    assert.equal(res.records.length, res.totalSize, 'autoFetch must return every record');
    assert.equal(new Set(res.records.map((r) => r.Id)).size, res.totalSize, 'no duplicates across pages');
    assert.equal(res.done, true);
    for (const r of res.records.slice(0, 5)) {
      assertId(r.Id, '006');
      assert.equal(r.attributes.type, 'Opportunity');
      assert.match(r.attributes.url, new RegExp(`^/services/data/v${sf.apiVersion.replace('.', '\\.')}/sobjects/Opportunity/${r.Id}$`));
      assert.match(r.Id, /^006[0-9A-Za-z]{15}$/);
    }
    const after = await stats();
    const more = Object.entries(after.endpoints).filter(([k]) => k.startsWith('GET ') && /\/query\/\{/.test(k))
      .reduce((n, [k, m]) => n + Object.values(m).reduce((a, b) => a + b, 0) - Object.values(before.endpoints[k] || {}).reduce((a, b) => a + b, 0), 0);
    assert.ok(more >= Math.ceil(res.totalSize / 2000) - 1, `expected queryMore calls, got ${more}`);
  });

  it('query pages: 2,000-record batches, nextRecordsUrl locator, Sforce-Limit-Info', async () => {
    const first = await conn.request(`/services/data/v${sf.apiVersion}/query?q=${encodeURIComponent('SELECT Id FROM Opportunity')}`);
    assert.equal(first.records.length, 2000);
    assert.equal(first.done, false);
    assert.match(first.nextRecordsUrl, new RegExp(`^/services/data/v${sf.apiVersion.replace('.', '\\.')}/query/01g[0-9A-Za-z]{15}-2000$`));
    const second = await conn.request(first.nextRecordsUrl);
    assert.equal(second.totalSize, first.totalSize, 'totalSize stays the grand total');
    assert.ok(conn.limitInfo?.apiUsage?.used > 0, `jsforce parsed Sforce-Limit-Info: ${JSON.stringify(conn.limitInfo)}`);
    assert.ok(conn.limitInfo.apiUsage.limit >= conn.limitInfo.apiUsage.used);
    const empty = await conn.query("SELECT Id FROM Opportunity WHERE Name = 'no such name at all'");
    assert.deepEqual({ totalSize: empty.totalSize, done: empty.done, records: empty.records }, { totalSize: 0, done: true, records: [] });
  });

  it('CRUD on Opportunity', async () => {
    const so = conn.sobject('Opportunity');
    const created = await so.create(opp(`CRUD ${runId}`));
    assert.equal(created.success, true);
    assertId(created.id, '006');
    assert.deepEqual(created.errors, []);

    const rec = await so.retrieve(created.id);
    assert.equal(rec.Id, created.id);
    assert.equal(rec.Name, `CRUD ${runId}`);
    assert.equal(rec.StageName, 'Prospecting');
    assert.equal(rec.CloseDate, '2026-06-30');
    assert.match(rec.CreatedDate, SF_DATETIME);
    assert.match(rec.SystemModstamp, SF_DATETIME);

    const upd = await so.update({ Id: created.id, StageName: 'Closed Won', Amount: 4242.5 });
    assert.equal(upd.success, true);
    const rec2 = await so.retrieve(created.id);
    assert.equal(rec2.StageName, 'Closed Won');
    assert.equal(rec2.Amount, 4242.5);
    assert.equal(rec2.IsWon, true);
    assert.equal(rec2.IsClosed, true);

    const del = await so.destroy(created.id);
    assert.equal(del.success, true);
    await assert.rejects(so.retrieve(created.id), (err) => {
      assert.ok(['ENTITY_IS_DELETED', 'NOT_FOUND'].includes(err.errorCode), `errorCode ${err.errorCode}`);
      return true;
    });

    // Validation errors surface as jsforce errors with errorCode.
    await assert.rejects(so.create({ Name: 'missing stage' }), (err) => {
      assert.equal(err.errorCode, 'REQUIRED_FIELD_MISSING');
      return true;
    });
  });

  it('upsert by external id Jira_Issue_Id__c (insert, then update)', async () => {
    const so = conn.sobject('Opportunity');
    const ext = `9${Date.now() % 1e8}`;
    const first = await so.upsert(opp(`Upsert ${runId}`, { Jira_Issue_Id__c: ext }), 'Jira_Issue_Id__c');
    assert.equal(first.success, true);
    assert.match(first.id, /^006/);
    assert.equal(first.created, true, 'v46+ reports created:true on insert');

    const second = await so.upsert({ Jira_Issue_Id__c: ext, StageName: 'Qualification' }, 'Jira_Issue_Id__c');
    assert.equal(second.success, true);
    assert.equal(second.created, false, 'v46+ answers 200 with created:false on update');
    assert.equal(second.id, first.id);

    const res = await conn.query(`SELECT Id, StageName FROM Opportunity WHERE Jira_Issue_Id__c = '${ext}'`);
    assert.equal(res.totalSize, 1);
    assert.equal(res.records[0].StageName, 'Qualification');

    // Before API v46.0 an update by upsert answers 204 No Content (jsforce then reports success without id).
    const old = new jsforce.Connection({ instanceUrl: conn.instanceUrl, accessToken: conn.accessToken, version: '45.0' });
    const legacy = await old.sobject('Opportunity').upsert({ Jira_Issue_Id__c: ext, StageName: 'Needs Analysis' }, 'Jira_Issue_Id__c');
    assert.deepEqual(legacy, { success: true, errors: [] }, 'v45 update by upsert is 204 with no body');
    await so.destroy(first.id);
  });

  it('sObject collections: create and update([...], {allOrNone:true}) use /composite/sobjects', async () => {
    const so = conn.sobject('Opportunity');
    const before = await stats();
    const created = await so.create([opp(`Coll A ${runId}`), opp(`Coll B ${runId}`), opp(`Coll C ${runId}`)], { allOrNone: true });
    assert.equal(created.length, 3);
    for (const c of created) assert.equal(c.success, true, JSON.stringify(c));

    const updated = await so.update(created.map((c, i) => ({ Id: c.id, Amount: 100 * (i + 1), StageName: 'Needs Analysis' })), { allOrNone: true });
    assert.equal(updated.length, 3);
    updated.forEach((u, i) => { assert.equal(u.success, true, JSON.stringify(u)); assert.equal(u.id, created[i].id, 'results in input order'); });

    const after = await stats();
    const used = (method) => Object.keys(after.endpoints).some((k) => k.startsWith(method + ' ') && k.includes('composite/sobjects')
      && Object.values(after.endpoints[k]).reduce((a, b) => a + b, 0) > Object.values(before.endpoints[k] || {}).reduce((a, b) => a + b, 0));
    assert.ok(used('POST'), 'jsforce create([...]) must hit POST /composite/sobjects');
    assert.ok(used('PATCH'), 'jsforce update([...]) must hit PATCH /composite/sobjects');

    const rows = (await conn.query(`SELECT Id, Amount, StageName FROM Opportunity WHERE Name LIKE 'Coll % ${runId}' ORDER BY Name`)).records;
    assert.deepEqual(rows.map((r) => r.Amount), [100, 200, 300]);

    // allOrNone: one bad record rolls back the good one.
    const rolled = await so.update([
      { Id: created[0].id, Amount: 999 },
      { Id: created[1].id, StageName: null },
    ], { allOrNone: true });
    assert.equal(rolled.length, 2);
    assert.equal(rolled[1].success, false);
    assert.equal(rolled[0].success, false, 'sibling of a failed record is rolled back under allOrNone');
    assert.equal(rolled[0].errors[0]?.statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK', `collection errors use "statusCode": ${JSON.stringify(rolled[0])}`);
    assert.equal(rolled[1].errors[0]?.statusCode, 'REQUIRED_FIELD_MISSING', JSON.stringify(rolled[1]));
    assert.deepEqual(rolled[1].errors[0]?.fields, ['StageName']);
    assert.equal((await so.retrieve(created[0].id)).Amount, 100, 'rolled back record unchanged');

    const deleted = await so.destroy(created.map((c) => c.id), { allOrNone: true });
    assert.equal(deleted.length, 3);
    for (const d of deleted) assert.equal(d.success, true);
  });

  it('describe Opportunity and describeGlobal', async () => {
    const d = await conn.sobject('Opportunity').describe();
    assert.equal(d.name, 'Opportunity');
    assert.equal(d.keyPrefix, '006');
    const byName = Object.fromEntries(d.fields.map((f) => [f.name, f]));
    for (const f of ['Id', 'Name', 'StageName', 'CloseDate', 'Amount', 'SystemModstamp', 'Jira_Issue_Id__c']) {
      assert.ok(byName[f], `describe lacks ${f}`);
    }
    assert.equal(byName.Id.type, 'id');
    assert.equal(byName.StageName.type, 'picklist');
    assert.ok(byName.StageName.picklistValues.some((p) => p.value === 'Closed Won'));
    assert.equal(byName.Jira_Issue_Id__c.externalId, true);
    assert.equal(byName.Jira_Issue_Id__c.custom, true);
    const g = await conn.describeGlobal();
    assert.ok(g.sobjects.some((o) => o.name === 'Opportunity'));
    assert.equal(g.maxBatchSize, 200);
  });

  it('limits()', async () => {
    const l = await conn.limits();
    assert.ok(l.DailyApiRequests, 'DailyApiRequests present');
    assert.equal(typeof l.DailyApiRequests.Max, 'number');
    assert.equal(typeof l.DailyApiRequests.Remaining, 'number');
    assert.ok(l.DailyApiRequests.Remaining < l.DailyApiRequests.Max);
  });

  it('getUpdated / getDeleted replication', async () => {
    const so = conn.sobject('Opportunity');
    const start = new Date(Date.now() - 10 * 60 * 1000);
    const created = await so.create(opp(`Repl ${runId}`));
    await so.destroy(created.id);
    const end = new Date(Date.now() + 60 * 1000);
    const upd = await so.updated(start, end);
    assert.ok(Array.isArray(upd.ids), JSON.stringify(upd));
    assert.match(upd.latestDateCovered, SF_DATETIME);
    const del = await so.deleted(start, end);
    assert.ok(Array.isArray(del.deletedRecords), JSON.stringify(del));
    assert.match(del.earliestDateAvailable, SF_DATETIME);
    assert.match(del.latestDateCovered, SF_DATETIME);
    const rec = del.deletedRecords.find((r) => r.id === created.id);
    if (new Date(del.latestDateCovered.replace('+0000', 'Z')) > new Date(Date.now() - 60 * 1000)) {
      assert.ok(rec, `deleted record ${created.id} missing from getDeleted`);
    }
    if (rec) assert.match(rec.deletedDate, SF_DATETIME);
  });

  it('expired session answers 401 INVALID_SESSION_ID', async () => {
    const c = new jsforce.Connection({ instanceUrl: sf.url, accessToken: '00D000000000000!bogus', version: sf.apiVersion });
    await assert.rejects(c.query('SELECT Id FROM Opportunity LIMIT 1'), (err) => {
      assert.equal(err.errorCode, 'INVALID_SESSION_ID');
      return true;
    });
  });
});
