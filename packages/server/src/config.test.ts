import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.js';
import { regionForCountry } from './domain/tenants/region-map.js';

test('defaults: SQLite under ./data on 127.0.0.1:8080, regions eu, us and apac', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.storage.kind, 'sqlite');
  assert.deepEqual(config.regions, ['eu', 'us', 'apac']);
  assert.equal(regionForCountry(config.regionMap, 'GB'), 'eu');
  assert.equal(regionForCountry(config.regionMap, 'de'), 'eu');
  assert.equal(regionForCountry(config.regionMap, 'US'), 'us');
  assert.equal(regionForCountry(config.regionMap, 'CA'), 'us');
  assert.equal(regionForCountry(config.regionMap, 'JP'), 'apac');
  assert.equal(regionForCountry(config.regionMap, 'AE'), 'eu');
  assert.equal(regionForCountry(config.regionMap, 'AQ'), 'us', 'no continent mapping: the fallback');
});

test('environment overrides: PostgreSQL URLs, regions, country overrides', () => {
  const config = loadConfig({
    PORT: '9000',
    CUSTOS_DATABASE: 'postgres',
    CUSTOS_REGIONS: 'eu,us',
    CUSTOS_DIRECTORY_DATABASE_URL: 'postgres://d/dir',
    CUSTOS_REGION_DATABASE_URLS: 'eu=postgres://e/eu, us=postgres://u/us',
    CUSTOS_COUNTRY_REGIONS: 'BR=eu',
  });
  assert.equal(config.port, 9000);
  assert.deepEqual(config.storage, {
    kind: 'postgres',
    directoryUrl: 'postgres://d/dir',
    regionUrls: { eu: 'postgres://e/eu', us: 'postgres://u/us' },
    maxConnections: 10,
    keyDir: config.dataDir,
  });
  assert.equal(regionForCountry(config.regionMap, 'BR'), 'eu');
  assert.equal(regionForCountry(config.regionMap, 'JP'), 'us', 'apac is not run here, so its countries fall back');
});

test('bad configuration is refused with a message naming the setting', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ CUSTOS_DATABASE: 'mysql' }), /CUSTOS_DATABASE/);
  assert.throws(() => loadConfig({ CUSTOS_DATABASE: 'postgres' }), /CUSTOS_DIRECTORY_DATABASE_URL/);
  assert.throws(
    () => loadConfig({ CUSTOS_DATABASE: 'postgres', CUSTOS_DIRECTORY_DATABASE_URL: 'x', CUSTOS_REGION_DATABASE_URLS: 'eu=x' }),
    /region "us"/,
  );
  assert.throws(() => loadConfig({ CUSTOS_COUNTRY_REGIONS: 'BR=mars' }), /mars/);
  assert.throws(() => loadConfig({ CUSTOS_REGIONS: 'EU West' }), /Region name/);
  assert.throws(() => loadConfig({ CUSTOS_CONFIG: '/nonexistent/custos.json' }), /configuration file/);
});

test('jobs and mail: interval default 60 s, no SMTP unless configured, bad values refused without echoing the URL', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.jobIntervalSeconds, 60);
  assert.equal(defaults.smtpUrl, undefined);
  assert.equal(defaults.mailFrom, 'Custos <custos@localhost>');
  const set = loadConfig({
    CUSTOS_JOB_INTERVAL_SECONDS: '15',
    CUSTOS_SMTP_URL: 'smtp://user:pass@mail.example.com:587',
    CUSTOS_MAIL_FROM: 'IT <it@example.com>',
  });
  assert.equal(set.jobIntervalSeconds, 15);
  assert.equal(set.smtpUrl, 'smtp://user:pass@mail.example.com:587');
  assert.equal(set.mailFrom, 'IT <it@example.com>');
  assert.throws(() => loadConfig({ CUSTOS_JOB_INTERVAL_SECONDS: '0' }), /CUSTOS_JOB_INTERVAL_SECONDS/);
  assert.throws(() => loadConfig({ CUSTOS_JOB_INTERVAL_SECONDS: '1.5' }), /CUSTOS_JOB_INTERVAL_SECONDS/);
  assert.throws(
    () => loadConfig({ CUSTOS_SMTP_URL: 'http://user:s3cret@mail.example.com' }),
    (e: unknown) => e instanceof ConfigError && /CUSTOS_SMTP_URL/.test(e.message) && !e.message.includes('s3cret'),
  );
});

test('public URL: defaults to the loopback address and port, trailing slash dropped, anything but http(s) refused', () => {
  assert.equal(loadConfig({}).publicUrl, 'http://127.0.0.1:8080');
  assert.equal(loadConfig({ PORT: '9090' }).publicUrl, 'http://127.0.0.1:9090');
  assert.equal(loadConfig({ CUSTOS_PUBLIC_URL: 'https://mdm.example.com/' }).publicUrl, 'https://mdm.example.com');
  assert.throws(() => loadConfig({ CUSTOS_PUBLIC_URL: 'mdm.example.com' }), /CUSTOS_PUBLIC_URL/);
  assert.throws(() => loadConfig({ CUSTOS_PUBLIC_URL: 'https://mdm.example.com/?x=1' }), /CUSTOS_PUBLIC_URL/);
});
