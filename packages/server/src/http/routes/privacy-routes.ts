import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CATALOG_FIELDS, PROHIBITED_CATEGORIES, PrivacyCatalogSchema, RETENTION_RULES } from '@custos/shared';

/** The privacy catalog is public: anyone may read what Custos can and cannot collect. */
/** Raised whenever a field is added or changes meaning (2: password and firewall state). */
export const CATALOG_VERSION = '2';

export const privacyRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
    retentionRules: RETENTION_RULES.map((r) => ({ rule: r.rule, description: r.description, days: r.days })),
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
