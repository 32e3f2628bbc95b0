import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CATALOG_FIELDS, DEFAULT_EXPORT_ARCHIVE_DAYS, PROHIBITED_CATEGORIES, PrivacyCatalogSchema, retentionRules } from '@custos/shared';

/** The privacy catalog is public: anyone may read what Custos can and cannot collect. */
/** Raised whenever a field is added or changes meaning (2: password and firewall state). */
export const CATALOG_VERSION = '2';

/** `exportArchiveDays`: the deployment's export archive lifetime, published with the other retention rules. */
export const privacyRoutes: FastifyPluginAsyncTypebox<{ exportArchiveDays?: number }> = async (app, options) => {
  const catalog = {
    version: CATALOG_VERSION,
    fields: CATALOG_FIELDS.map((f) => ({
      name: f.name,
      label: f.label,
      category: f.category,
      source: f.source,
      valueType: f.valueType,
      ...(f.allowedValues ? { allowedValues: [...f.allowedValues] } : {}),
      platforms: [...f.platforms],
      purpose: f.purpose,
      retention: f.retention,
      sensitivity: f.sensitivity,
      visibleWith: f.visibleWith,
    })),
    prohibitedCategories: PROHIBITED_CATEGORIES.map((c) => ({ category: c.category, label: c.label })),
    appInventoryRules: [
      'Corporate devices: all installed apps.',
      'Personal devices: only apps your organization manages, unless a compliance policy with an app allow or block list applies to the device.',
      'macOS: all installed apps, whatever the ownership.',
    ],
    retentionRules: retentionRules(options.exportArchiveDays ?? DEFAULT_EXPORT_ARCHIVE_DAYS).map((r) => ({
      rule: r.rule,
      description: r.description,
      days: r.days,
    })),
  };
  app.get(
    '/api/v1/privacy/catalog',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Every field Custos can hold, and the categories it never collects',
        response: { 200: PrivacyCatalogSchema },
      },
    },
    () => catalog,
  );
};
