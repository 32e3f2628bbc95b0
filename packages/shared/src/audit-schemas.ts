/** The audit log as the API shows it (SPEC §3 AuditEvent). */
import { Type } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const AuditActorSchema = Type.Object({
  type: Type.String(),
  id: Type.String(),
  name: Type.String(),
  ip: Nullable(Type.String()),
});

export const AuditTargetSchema = Type.Object({
  type: Type.String(),
  id: Type.String(),
  name: Type.Optional(Type.String()),
  modifiedProperties: Type.Optional(Type.Array(Type.Object({ name: Type.String(), oldValue: Type.Unknown(), newValue: Type.Unknown() }))),
});

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  sequence: Type.Integer(),
  occurredAt: Type.String({ format: 'date-time' }),
  actor: AuditActorSchema,
  activity: Type.String(),
  category: Type.String(),
  operation: Type.String(),
  result: Type.Enum(['success', 'failure']),
  targets: Type.Array(AuditTargetSchema),
  correlationId: Nullable(Type.String()),
  previousHash: Type.String(),
  hash: Type.String(),
  /** Imported events only (`source=imported`): the tenant whose chain the event belongs to (its hash covers that id). */
  sourceTenantId: Type.Optional(Type.String()),
});

export const AuditEventListSchema = Type.Object({
  items: Type.Array(AuditEventSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const AuditEventQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time.' })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    activity: Type.Optional(Type.String({ maxLength: 200 })),
    actorId: Type.Optional(Type.String({ maxLength: 200 })),
    targetId: Type.Optional(Type.String({ maxLength: 200 })),
    result: Type.Optional(Type.Enum(['success', 'failure'])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$', description: 'From the previous page: events older than it.' })),
    source: Type.Optional(
      Type.Enum(['tenant', 'imported'], {
        description: "The tenant's own chain (default), or the read-only chains an import brought along.",
      }),
    ),
  },
  { additionalProperties: false },
);

const ChainVerdictFields = {
  intact: Type.Boolean(),
  events: Type.Integer(),
  problem: Type.Optional(Type.Enum(['altered', 'missing', 'reordered'])),
  sequence: Type.Optional(Type.Integer()),
  eventId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  detail: Type.Optional(Type.String()),
  lastHash: Type.Optional(Type.String()),
};

/** The tenant's own chain at the top level (intact only if every imported chain is too), then each imported chain. */
export const AuditVerifySchema = Type.Object({
  ...ChainVerdictFields,
  imported: Type.Array(
    Type.Object({
      ...ChainVerdictFields,
      sourceTenantId: Type.String(),
      /** Whether the import event in the tenant's own chain attests this chain's extent (else only its links are checked). */
      attested: Type.Boolean(),
    }),
  ),
});
