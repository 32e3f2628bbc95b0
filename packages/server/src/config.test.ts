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
