/** The organization's own settings as admins edit them: privacy statement, support contact, branding. */
import { Type, type Static } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const BrandingSchema = Type.Object({
  displayName: Nullable(Type.String({ minLength: 1, maxLength: 100 })),
  accentColor: Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'The portals’ accent colour, `#rrggbb`.' })),
});

export const TenantSettingsSchema = Type.Object({
  tenantId: Type.String(),
  name: Type.String(),
  country: Type.String(),
  region: Type.String(),
  privacyStatement: Type.Object({
    version: Type.String({
      description: 'Raised whenever the text or the link changes; enrollments record the version the user accepted.',
    }),
    text: Nullable(Type.String()),
    url: Nullable(Type.String()),
  }),
  supportContact: Nullable(Type.String()),
  branding: BrandingSchema,
});

export const TenantSettingsUpdateSchema = Type.Object(
  {
    privacyStatementText: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
    privacyStatementUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048, format: 'uri' }))),
    supportContact: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
    branding: Type.Optional(Type.Partial(BrandingSchema, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type TenantSettingsUpdate = Static<typeof TenantSettingsUpdateSchema>;
